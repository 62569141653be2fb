/** Entry point of the Cockpit page: the theme is applied before the app's first render (a microtask later). */
import { followCockpitTheme } from './theme.js';
import './app.js';

followCockpitTheme();
