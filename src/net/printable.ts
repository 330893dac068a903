/** Bytes from a peer as they may appear in a message: printable ASCII kept, the rest escaped. */

/** The first `max` bytes, printable: \n \r \t \\ and \xNN for anything else; `...` when cut. */
export function printable(data: Buffer, max = 60): string {
  let out = '';
  for (const b of data.subarray(0, max)) {
    if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return data.length > max ? `${out}...` : out;
}
