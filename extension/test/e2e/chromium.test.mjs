// The sidebar's end-to-end steps in Debian's Chromium (see sidebar.scenarios.mjs).
import { sidebarScenarios } from './sidebar.scenarios.mjs';

sidebarScenarios('chromium');
