//! The seat states of a `snapshot`: 2 bits per seat, then base64, so a snapshot of a
//! 100,000-seat venue is about 33 KB whatever is held or sold.

use base64::Engine as _;

use crate::SeatState;

/// Seat state codes of the 2-bit encoding: free.
pub const FREE: u8 = 0;
/// Held by anyone (the snapshot's `mine` says which are yours).
pub const HELD: u8 = 1;
/// Sold.
pub const SOLD: u8 = 2;

impl SeatState {
    /// The state's 2-bit code.
    pub fn code(self) -> u8 {
        match self {
            SeatState::Free => FREE,
            SeatState::Held => HELD,
            SeatState::Sold => SOLD,
        }
    }
}

/// Packs seat states 2 bits per seat: seat `i` is bits `2*(i%4)` and `2*(i%4)+1` of byte
/// `i/4` (least significant first); 0 free, 1 held, 2 sold. Then standard base64 with
/// padding. Ids outside `0..count` are ignored; a seat both held and sold counts as sold.
pub fn encode(
    count: usize,
    held: impl IntoIterator<Item = u32>,
    sold: impl IntoIterator<Item = u32>,
) -> String {
    let mut bytes = vec![0u8; count.div_ceil(4)];
    let mut set = |seat: u32, code: u8| {
        let i = seat as usize;
        if i >= count {
            return;
        }
        if let Some(b) = bytes.get_mut(i / 4) {
            let shift = (i % 4) * 2;
            *b = (*b & !(0b11 << shift)) | (code << shift);
        }
    };
    for seat in held {
        set(seat, HELD);
    }
    for seat in sold {
        set(seat, SOLD);
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Unpacks [`encode`]: one code per seat, `count` of them; None for bad base64 or a wrong
/// length.
pub fn decode(text: &str, count: usize) -> Option<Vec<u8>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    if bytes.len() != count.div_ceil(4) {
        return None;
    }
    Some(
        (0..count)
            .map(|i| bytes.get(i / 4).map_or(0, |b| (b >> ((i % 4) * 2)) & 0b11))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_pack_two_bits_per_seat() {
        let text = encode(6, [1, 5, 99], [2, 5]);
        // Byte 0: seat 1 held (0b01 << 2), seat 2 sold (0b10 << 4); byte 1: seat 5 sold.
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .unwrap();
        assert_eq!(bytes, vec![0b0010_0100, 0b0000_1000]);
        assert_eq!(
            decode(&text, 6).unwrap(),
            vec![FREE, HELD, SOLD, FREE, FREE, SOLD]
        );
    }

    #[test]
    fn states_round_trip_and_sold_wins_over_held() {
        let text = encode(10, [1, 2, 99], [2, 9]);
        let codes = decode(&text, 10).unwrap();
        assert_eq!(codes, vec![0, 1, 2, 0, 0, 0, 0, 0, 0, 2]);
    }

    #[test]
    fn a_wrong_length_or_bad_base64_decodes_to_nothing() {
        let text = encode(10, [], []);
        assert!(decode(&text, 13).is_none());
        assert!(decode("not base64!", 10).is_none());
        assert_eq!(decode(&encode(0, [], []), 0), Some(vec![]));
    }
}
