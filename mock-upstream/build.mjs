import { bundleWorkspace } from '../scripts/bundle.mjs';

await bundleWorkspace('mock-upstream', '.');
