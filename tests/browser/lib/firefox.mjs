// Debian's Firefox ESR, headless, driven by puppeteer-core over WebDriver BiDi, with
// Firefox's own fake camera and microphone and no OpenH264 (VP8 and Opus only, as on
// machines without the plugin). Needs a default route in the network namespace
// (tests/media/run_in_netns.sh) or it gathers no ICE candidates.
import puppeteer from 'puppeteer-core';

export function launchFirefox() {
  return puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'media.autoplay.default': 0,
      'media.gmp-gmpopenh264.enabled': false,
      'network.dns.disableIPv6': true,
    },
  });
}
