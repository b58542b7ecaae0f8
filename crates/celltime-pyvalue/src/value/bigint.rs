//! Integers past `i64`, and the small unsigned bignum behind them and behind `np.longdouble`'s
//! shortest digits.
//!
//! Decimal conversion is quadratic, so it is done only up to the size CPython itself prints
//! (`sys.int_info.default_max_str_digits`, 4,300 digits); a larger integer keeps its bytes and
//! shows its digit count, leading and trailing digits, each found in time linear in its size.

use std::cmp::Ordering;

/// Magnitudes up to this many bytes (4,298 digits) are converted to decimal exactly.
pub(crate) const MAX_DECIMAL_BYTES: usize = 1785;

/// An integer too large for Python to print in decimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HugeInt {
    pub negative: bool,
    /// Little-endian magnitude without high zero bytes.
    pub magnitude: Vec<u8>,
}

/// log10(2) as a 128-bit binary fraction.
const LOG10_2: u128 = 0x4d10_4d42_7de7_fbcc_47c4_acd6_05be_48bc;

impl HugeInt {
    pub fn bits(&self) -> u64 {
        let top = self.magnitude.last().copied().unwrap_or(0);
        (self.magnitude.len() as u64 * 8).saturating_sub(u64::from(top.leading_zeros()))
    }

    /// `log10(|n|)` split into an integer and a fractional part, from the top 64 bits and a
    /// 128-bit log10(2); correct to about 1e-15.
    fn log10(&self) -> (u64, f64) {
        let bits = self.bits();
        let shift = bits.saturating_sub(64);
        let mut top = 0u64;
        for i in (0..64u64).rev() {
            let bit = shift + i;
            let byte = self.magnitude.get((bit / 8) as usize).copied().unwrap_or(0);
            top = (top << 1) | u64::from((byte >> (bit % 8)) & 1);
        }
        // shift × log10(2): a 64×128-bit product, integer part above bit 128.
        let (hi, lo) = (LOG10_2 >> 64, LOG10_2 & u128::from(u64::MAX));
        let low = u128::from(shift) * lo;
        let high = u128::from(shift) * hi + (low >> 64);
        let whole = (high >> 64) as u64;
        let frac = ((high as u64) as f64) / 2f64.powi(64) + (top as f64).log10();
        (whole + frac.floor() as u64, frac.fract())
    }

    /// The number of decimal digits, and whether it is certain (it is not only when the value
    /// lies within 1e-13 of a power of ten).
    pub fn digits(&self) -> (u64, bool) {
        let (whole, frac) = self.log10();
        (whole + 1, frac > 1e-13 && frac < 1.0 - 1e-13)
    }

    /// Up to 12 leading digits, fewer when the next ones are too close to call; when even
    /// the first is (the value lies within about 1e-13 of a digit boundary), 12 rounded
    /// digits and false.
    pub fn leading_digits(&self) -> (String, bool) {
        let (_, frac) = self.log10();
        let mantissa = 10f64.powf(frac);
        for n in (1..=12).rev() {
            let scaled = mantissa * 10f64.powi(n - 1);
            let rest = scaled.fract();
            if rest > 1e-3 && rest < 1.0 - 1e-3 {
                return (format!("{}", scaled.floor() as u64), true);
            }
        }
        let rounded = (mantissa * 1e11).round() as u64;
        (rounded.min(999_999_999_999).to_string(), false)
    }

    /// The last 13 digits, zero-padded: `n mod 10^13` from the remainders mod 2^13 and 5^13.
    pub fn trailing_digits(&self) -> String {
        const FIVE13: u64 = 1_220_703_125;
        let mut rem5 = 0u64;
        for chunk in self.magnitude.chunks(4).rev() {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            let limb = u64::from(u32::from_le_bytes(word));
            rem5 = ((rem5 << 32) | limb) % FIVE13;
        }
        let low = u64::from(u16::from_le_bytes([
            self.magnitude.first().copied().unwrap_or(0),
            self.magnitude.get(1).copied().unwrap_or(0),
        ])) % 8192;
        // x ≡ low (mod 2^13), x ≡ rem5 (mod 5^13): x = rem5 + 5^13·t, t found mod 2^13.
        let inv = inverse_mod_pow2(FIVE13 % 8192, 13);
        let t = ((low + 8192 - rem5 % 8192) % 8192) * inv % 8192;
        format!("{:013}", rem5 + FIVE13 * t)
    }
}

/// The inverse of odd `a` modulo 2^k, by Newton's iteration.
fn inverse_mod_pow2(a: u64, k: u32) -> u64 {
    let mask = (1u64 << k) - 1;
    let mut x = 1u64;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x))) & mask;
    }
    x
}

/// Decimal digits of a little-endian unsigned magnitude, by repeated division by 10^9.
pub(crate) fn magnitude_to_decimal(mag: &[u8]) -> String {
    let mut limbs: Vec<u32> = mag
        .chunks(4)
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(b)
        })
        .collect();
    let mut groups = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rem = 0u64;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        groups.push(rem as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let Some((first, rest)) = groups.split_last() else {
        return "0".into();
    };
    let mut out = first.to_string();
    for g in rest.iter().rev() {
        out.push_str(&format!("{g:09}"));
    }
    out
}

/// A small unsigned bignum, little-endian u32 limbs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn shl(&self, bits: u32) -> Big {
        let (words, bits) = ((bits / 32) as usize, bits % 32);
        let mut out = vec![0u32; words];
        let mut carry = 0u32;
        for &w in &self.0 {
            out.push((w << bits) | carry);
            carry = if bits == 0 { 0 } else { w >> (32 - bits) };
        }
        out.push(carry);
        let mut b = Big(out);
        b.trim();
        b
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for w in &mut self.0 {
            let v = u64::from(*w) * u64::from(m) + carry;
            *w = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn add(&self, other: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len().max(other.0.len()) + 1);
        let mut carry = 0u64;
        for i in 0..self.0.len().max(other.0.len()) {
            let v = u64::from(self.0.get(i).copied().unwrap_or(0))
                + u64::from(other.0.get(i).copied().unwrap_or(0))
                + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        out.push(carry as u32);
        let mut b = Big(out);
        b.trim();
        b
    }

    /// `self -= other`; callers ensure `self >= other`.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let v = i64::from(self.0[i]) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            self.0[i] = v.rem_euclid(1 << 32) as u32;
            borrow = i64::from(v < 0);
        }
        self.trim();
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    fn mul_pow10(&mut self, n: u32) {
        for _ in 0..n {
            self.mul_small(10);
        }
    }
}

/// The shortest decimal digits of `mantissa × 2^exp` that read back as the same value among
/// floats with a 64-bit mantissa, and the power of ten of the first digit (Burger and Dybvig's
/// free-format algorithm, ties to even). `subnormal` means the gap below is not halved.
pub(crate) fn shortest_digits(mantissa: u64, exp: i32, subnormal: bool) -> (String, i32) {
    let even = mantissa.is_multiple_of(2);
    let closer_below = mantissa == 1 << 63 && !subnormal;
    let f = Big::from_u64(mantissa);
    let one = Big::from_u64(1);
    let (mut r, mut s, mut mp, mut mm) = match (exp >= 0, closer_below) {
        (true, false) => {
            let be = one.shl(exp as u32);
            (f.shl(exp as u32 + 1), Big::from_u64(2), be.clone(), be)
        }
        (true, true) => {
            let be = one.shl(exp as u32);
            (f.shl(exp as u32 + 2), Big::from_u64(4), be.shl(1), be)
        }
        (false, false) => (f.shl(1), one.shl(exp.unsigned_abs() + 1), one.clone(), one),
        (false, true) => (
            f.shl(2),
            one.shl(exp.unsigned_abs() + 2),
            Big::from_u64(2),
            one,
        ),
    };
    let bits = 64 - i64::from(mantissa.leading_zeros()) + i64::from(exp);
    let mut k = ((bits - 1) as f64 * std::f64::consts::LOG10_2 - 1e-10).ceil() as i32;
    if k >= 0 {
        s.mul_pow10(k as u32);
    } else {
        let n = k.unsigned_abs();
        r.mul_pow10(n);
        mp.mul_pow10(n);
        mm.mul_pow10(n);
    }
    let high = |r: &Big, mp: &Big, s: &Big| match r.add(mp).cmp(s) {
        Ordering::Greater => true,
        Ordering::Equal => even,
        Ordering::Less => false,
    };
    if high(&r, &mp, &s) {
        k += 1;
    } else {
        r.mul_small(10);
        mp.mul_small(10);
        mm.mul_small(10);
    }
    let mut digits = String::new();
    loop {
        let mut d = 0u8;
        while r.cmp(&s) != Ordering::Less {
            r.sub_assign(&s);
            d += 1;
        }
        let low = match r.cmp(&mm) {
            Ordering::Less => true,
            Ordering::Equal => even,
            Ordering::Greater => false,
        };
        let up = high(&r, &mp, &s);
        let last = match (low, up) {
            (false, false) => None,
            (true, false) => Some(d),
            (false, true) => Some(d + 1),
            (true, true) => Some(if r.shl(1).cmp(&s) == Ordering::Less {
                d
            } else {
                d + 1
            }),
        };
        match last {
            Some(d) => {
                digits.push(char::from(b'0' + d));
                return (digits, k - 1);
            }
            None => digits.push(char::from(b'0' + d)),
        }
        r.mul_small(10);
        mp.mul_small(10);
        mm.mul_small(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn huge(value_le: Vec<u8>) -> HugeInt {
        HugeInt {
            negative: false,
            magnitude: value_le,
        }
    }

    #[test]
    fn shortest_digits_of_doubles_match_rust() {
        // A double is a 64-bit-mantissa value too; with 53 significant bits its shortest
        // 64-bit digits are longer, but exact dyadic values must come out short.
        assert_eq!(shortest_digits(3 << 62, -63, false), ("15".into(), 0));
        assert_eq!(shortest_digits(1 << 63, -62, false), ("2".into(), 0));
        // 0.1 as an x87 long double (numpy prints np.longdouble('0.1')).
        assert_eq!(
            shortest_digits(0xcccc_cccc_cccc_cccd, -67, false),
            ("1".into(), -1)
        );
        // f64's 0.1 widened: numpy prints np.longdouble('0.10000000000000000555').
        assert_eq!(
            shortest_digits(0xcccc_cccc_cccc_d000, -67, false),
            ("10000000000000000555".into(), -1)
        );
    }

    #[test]
    fn huge_ints_show_count_and_ends_exactly() {
        // 5 * 10**5000 + 123: 5001 digits, leading "500000000000", trailing "0000000000123".
        let mut n = Big::from_u64(5);
        n.mul_pow10(5000);
        n = n.add(&Big::from_u64(123));
        let bytes: Vec<u8> = n.0.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut bytes = bytes;
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        let h = huge(bytes);
        assert_eq!(h.digits(), (5001, true));
        assert_eq!(h.leading_digits(), ("500000000000".into(), false));
        assert_eq!(h.trailing_digits(), "0000000000123");
        // 2**20000 = 3981... (6021 digits) ...9376.
        let mut p = vec![0u8; 2500];
        p.push(1);
        let h = huge(p);
        assert_eq!(h.digits(), (6021, true));
        assert_eq!(h.leading_digits(), ("398027684033".into(), true));
        assert_eq!(h.trailing_digits(), "1663406309376");
    }
}
