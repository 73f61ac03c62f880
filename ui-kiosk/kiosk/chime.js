// A two-note chime made with WebAudio (no sound file): a patient has arrived.
let context = null;

export function chime() {
  try {
    context = context || new AudioContext();
    if (context.state === 'suspended') context.resume();
    const start = context.currentTime + 0.02;
    [[880, 0], [660, 0.28]].forEach(([freq, at]) => {
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + at);
      gain.gain.exponentialRampToValueAtTime(0.3, start + at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.6);
      osc.connect(gain).connect(context.destination);
      osc.start(start + at);
      osc.stop(start + at + 0.65);
    });
    window.consultKiosk && window.consultKiosk.chimes++;
  } catch (err) {
    console.warn('no chime', err);
  }
}
