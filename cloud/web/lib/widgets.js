/** Small pieces shared by the shell and the views. */
import { html } from './html.js';
import { getLang, setLang, t } from './i18n.js';

/** The button that switches between Chinese and English (the choice is remembered). */
export function LangSwitch() {
  const next = getLang() === 'en' ? 'zh-CN' : 'en';
  return html`<button
    type="button"
    class="link-button"
    lang=${next}
    aria-label=${t('lang.switchLabel')}
    onClick=${() => setLang(next)}
  >
    ${t('lang.switch')}
  </button>`;
}
