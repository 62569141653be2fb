/**
 * Light and dark as Cockpit sets them: the shell keeps the choice in localStorage
 * (`shell:style`: auto, light or dark), announces changes with a `cockpit-style` event, and
 * pages put `pf-theme-dark` on <html>; `auto` follows the browser's prefers-color-scheme.
 */
const KEY = 'shell:style';

function wantDark(style?: string): boolean {
  let s = style;
  try {
    s ??= window.localStorage.getItem(KEY) ?? 'auto';
  } catch {
    s ??= 'auto';
  }
  if (s === 'dark') return true;
  if (s === 'light') return false;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
}

export function apply(style?: string): void {
  document.documentElement.classList.toggle('pf-theme-dark', wantDark(style));
}

export function followCockpitTheme(): void {
  apply();
  window.addEventListener('storage', (ev) => {
    if (ev.key === KEY) apply();
  });
  window.addEventListener('cockpit-style', (ev) => {
    const style = (ev as CustomEvent<{ style?: string }>).detail?.style;
    apply(style);
  });
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', () => apply());
}
