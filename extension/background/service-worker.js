// Chromium's background entry point: a service worker loads its classic scripts itself.
// Firefox lists the same scripts under background.scripts in the manifest.
importScripts('../lib/server-url.js', '../lib/api-client.js', 'main.js');
