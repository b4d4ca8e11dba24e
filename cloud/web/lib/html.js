/**
 * `html` tagged templates for Preact components (htm), so views need no build step:
 *
 *   import { html } from '../lib/html.js';
 *   return html`<p class="note">${t('bed.none')}</p>`;
 */
import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);
