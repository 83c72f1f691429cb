// Record and replay: what src/index.ts exports from this folder.
export { OscRecordingError, type RecordingErrorCode } from './errors.js';
export { RECORDING_VERSION, type RecordedPacket, type RecordingHeader } from './format.js';
export type { LatenessStats } from './lateness.js';
export { type Recorder, type RecorderStats, type RecordOptions, record } from './recorder.js';
export {
  type RecordingSource,
  type Replayer,
  type ReplayOptions,
  type ReplayStats,
  readRecording,
  replay,
} from './replayer.js';
