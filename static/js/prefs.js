/* The user's choices that outlive a reload (speed, voice, mode, panel, ...), in localStorage under "vox.*".
 * Private browsing or a full storage only means the choices are not remembered: nothing here throws. */

export const prefs = {
  get(key, fallback) {
    try {
      const value = localStorage.getItem(`vox.${key}`);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(`vox.${key}`, JSON.stringify(value));
    } catch (e) {
      /* private mode: preferences just don't persist */
    }
  },
};
