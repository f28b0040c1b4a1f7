export { addFreezeWindow, freezeWindowAt, freezeWindows, type FreezeWindow } from './windows.ts';
