// What index.html loads as plain scripts before the page's modules: xterm.js and its
// addons, as globals (their packages' own declarations).
declare const Terminal: typeof import('@xterm/xterm').Terminal;
declare const FitAddon: typeof import('@xterm/addon-fit');
declare const WebLinksAddon: typeof import('@xterm/addon-web-links');
