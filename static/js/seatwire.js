// The seat map's two compact wire forms (docs/protocol.md): the layout from
// GET /api/events/{id}/seats/layout, and the snapshot's `states`, 2 bits per seat.

const STATE_NAMES = ["free", "held", "sold"];

/** Every seat of a layout, ids in order: [{id, section, row, number, grade}]. */
export function expandLayout(layout) {
  const seats = [];
  for (const section of layout.sections) {
    for (const row of section.rows) {
      const count = row.numbers ? row.numbers.length : row.count;
      for (let i = 0; i < count; i++) {
        seats.push({
          id: row.first + i,
          section: section.name,
          row: row.label,
          number: row.numbers ? row.numbers[i] : i + 1,
          grade: row.grade,
        });
      }
    }
  }
  return seats;
}

/**
 * The state of each seat from a snapshot's `states`: base64, then seat i is bits 2*(i%4)
 * and 2*(i%4)+1 of byte i/4 (least significant first): 0 free, 1 held, 2 sold.
 * Returns an array of "free" | "held" | "sold", `count` long.
 */
export function decodeStates(b64, count) {
  const bin = atob(b64);
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const byte = i >> 2 < bin.length ? bin.charCodeAt(i >> 2) : 0;
    out[i] = STATE_NAMES[(byte >> ((i & 3) * 2)) & 3] ?? "free";
  }
  return out;
}
