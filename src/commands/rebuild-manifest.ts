import { notYet } from './not-yet.js';

export const rebuildManifest = notYet('rebuild-manifest', 'drop the manifest and rebuild it from the stored payloads');
