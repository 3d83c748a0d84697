import { h, replace, notice } from '../dom.js';

export async function render(main) {
  replace(main, h('h1', null, 'Outbox'), notice('info', 'This page is not available on this server yet.'));
}
