/** esbuild's text loader: a CSS file imported as its text (build.mjs `loader: {'.css': 'text'}`). */
declare module '*.css' {
  const text: string;
  export default text;
}
