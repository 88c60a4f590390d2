import { bundleWorkspace } from '../scripts/bundle.mjs';

await bundleWorkspace('lmgate', '.');
