// The errors of recordings: one class, a stable code per condition, and the line at fault.
import { OscError } from '../codec/errors.js';

/** The `code` of an {@link OscRecordingError}. */
export type RecordingErrorCode =
  /** A line that is not a record of the format: not JSON, a field missing or of the wrong type, bad base64... */
  | 'ERR_OSC_RECORDING_INVALID'
  /** The first line is not an aiolo recording header, or names a version this aiolo cannot read. */
  | 'ERR_OSC_RECORDING_VERSION'
  /** The recording could not be written or read: the file or stream failed (`cause` says how). */
  | 'ERR_OSC_RECORDING_IO';

/** A recording that cannot be read; `line` is the 1-based line number at fault (0: the source as a whole). */
export class OscRecordingError extends OscError {
  override readonly name = 'OscRecordingError';
  declare readonly code: RecordingErrorCode;
  readonly line: number;

  constructor(code: RecordingErrorCode, line: number, message: string, options?: ErrorOptions) {
    super(code, line > 0 ? `line ${line}: ${message}` : message, options);
    this.line = line;
  }
}
