// The sidebar's end-to-end steps in Debian's Firefox ESR (see sidebar.scenarios.mjs).
import { sidebarScenarios } from './sidebar.scenarios.mjs';

sidebarScenarios('firefox');
