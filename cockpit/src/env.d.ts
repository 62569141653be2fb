/** esbuild's text loader: a CSS file imported as its text (build.mjs `loader: {'.css': 'text'}`). */
declare module '*.css' {
  const text: string;
  export default text;
}

/** The agent socket the package was built for (build.mjs `socket`; the demo's own), a string literal. */
declare const __CALYPSO_SOCKET__: string;
