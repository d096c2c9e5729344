/** paved's own version, as package.json has it (a unit test keeps the two equal). */
export const PAVED_VERSION = '0.1.0';
