/**
 * The audible alert of the staff console: a two-tone chime (WebAudio, no sound
 * file) repeating every few seconds while a critical alarm waits for someone
 * to take it, unless muted.
 *
 * Browsers refuse to start audio before the user has interacted with the page,
 * so the sound is only armed at the first click or key press (logging in counts).
 * The state is on `<html data-alarm-sound="idle|playing|muted|blocked">` for tests and styles.
 */

/** @typedef {'idle' | 'playing' | 'muted' | 'blocked'} SoundState */

const REPEAT_MS = 2500;
const GESTURES = ['pointerdown', 'keydown', 'touchstart'];

/** One audio context for the page, created (or resumed) at a user gesture. @type {AudioContext | null} */
let sharedContext = null;
/** @type {Set<() => void>} */
const unlockListeners = new Set();

function unlockAudio() {
  if (!sharedContext) {
    const Context = globalThis.AudioContext ?? /** @type {any} */ (globalThis).webkitAudioContext;
    if (!Context) return;
    sharedContext = new Context();
  }
  const context = sharedContext;
  const tell = () => {
    for (const listener of unlockListeners) listener();
  };
  if (context.state === 'running') tell();
  else void context.resume().then(tell, () => undefined);
}

// Listen from the moment the console loads: the login click is the gesture that arms the sound.
for (const type of GESTURES)
  globalThis.addEventListener?.(type, unlockAudio, { capture: true, passive: true });

export class AlarmSound {
  #wanted = false;
  #muted = false;
  /** @type {ReturnType<typeof setInterval> | null} */
  #timer = null;
  /** @type {Set<(state: SoundState) => void>} */
  #listeners = new Set();
  /** @type {SoundState} */
  #state = 'idle';
  #onUnlock = () => this.#update();

  constructor() {
    unlockListeners.add(this.#onUnlock);
  }

  /** Sound (or stop sounding) because a critical alarm waits. @param {boolean} wanted */
  setWanted(wanted) {
    this.#wanted = wanted;
    this.#update();
  }

  /** @param {boolean} muted */
  setMuted(muted) {
    this.#muted = muted;
    this.#update();
  }

  get muted() {
    return this.#muted;
  }

  /** @returns {SoundState} */
  get state() {
    return this.#state;
  }

  /** @param {(state: SoundState) => void} listener @returns {() => void} */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  dispose() {
    this.#stopTimer();
    unlockListeners.delete(this.#onUnlock);
    this.#wanted = false;
    this.#setState('idle');
  }

  #update() {
    if (!this.#wanted) {
      this.#stopTimer();
      this.#setState('idle');
      return;
    }
    if (this.#muted) {
      this.#stopTimer();
      this.#setState('muted');
      return;
    }
    if (sharedContext?.state !== 'running') {
      this.#stopTimer();
      this.#setState('blocked');
      return;
    }
    if (!this.#timer) {
      this.#chime();
      this.#timer = setInterval(() => this.#chime(), REPEAT_MS);
    }
    this.#setState('playing');
  }

  #stopTimer() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Two short tones, high then low (the "hi-lo" of alarm receivers). */
  #chime() {
    const context = sharedContext;
    if (context?.state !== 'running') return;
    const start = context.currentTime + 0.02;
    [
      [960, 0],
      [640, 0.32],
      [960, 0.64],
      [640, 0.96],
    ].forEach(([frequency, offset]) => {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = 'square';
      oscillator.frequency.value = /** @type {number} */ (frequency);
      const t0 = start + /** @type {number} */ (offset);
      gain.gain.setValueAtTime(0.0001, t0);
      gain.gain.exponentialRampToValueAtTime(0.18, t0 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.28);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(t0);
      oscillator.stop(t0 + 0.3);
    });
  }

  /** @param {SoundState} state */
  #setState(state) {
    if (globalThis.document) globalThis.document.documentElement.dataset.alarmSound = state;
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }
}
