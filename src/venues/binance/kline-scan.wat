;; The klines hot path: validates a compact klines body straight from its
;; bytes and computes its facts (src/venues/binance/kline-scan.ts loads it and
;; documents the contract). Same checks as validateKlines, for intervals of a
;; fixed length; anything it does not accept returns 0 and the caller falls
;; back to JSON.parse + validateKlines, which decides and explains.
;;
;; `pack` stores a body it accepted in half the bytes, losslessly: such a
;; body has only 15 different characters (digits, `.`, `,`, `"`, `[`,
;; `]`), so each becomes a 4-bit code, two to a byte (the first in the low
;; half), after the body's length (u32 LE). A digit is its own value, `"`
;; 10, `[` 11, `,` 12, `]` 13, `.` 14: the low 4 bits of every character but
;; `"`. `unpack` writes the body back, byte for byte. Both use 128-bit SIMD,
;; 16 characters at a time.
;;
;; Regenerate kline-scan-wasm.ts after editing: npm run wasm
;;
;; Memory: [0, 32768) gaps as f64 pairs (at most 2047), [32768, 64768)
;; cut-short anomalies as f64 open times (at most 4000), [65024, 65208) the
;; powers of ten, from 65536 on the body, followed by two 0 bytes; a packed
;; form goes to (or comes from) the caller's offset after it. Times are f64 at the boundary (exact below 2^53,
;; no BigInt); open and close times are read as integers and compared as
;; f64, as in JavaScript.
(module
  (memory (export "memory") 2)
  (global $rows (export "rows") (mut i32) (i32.const 0))
  (global $firstOpen (export "firstOpen") (mut f64) (f64.const -1))
  (global $lastOpen (export "lastOpen") (mut f64) (f64.const -1))
  (global $lastClosed (export "lastClosedClose") (mut f64) (f64.const -1))
  (global $hasOpen (export "hasOpenCandle") (mut i32) (i32.const 0))
  (global $nGaps (export "gaps") (mut i32) (i32.const 0))
  (global $nAnoms (export "anomalies") (mut i32) (i32.const 0))

  ;; 10^0 .. 10^22, each exact as a double (so m / 10^scale rounds as Number() does).
  (func $powersOfTen
    (local $k i32) (local $p f64)
    (local.set $p (f64.const 1))
    (loop $next
      (f64.store (i32.add (i32.const 65024) (i32.shl (local.get $k) (i32.const 3))) (local.get $p))
      (local.set $p (f64.mul (local.get $p) (f64.const 10)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $next (i32.le_u (local.get $k) (i32.const 22)))))
  (start $powersOfTen)

  ;; One function, no calls (V8 does not inline WebAssembly calls here): each
  ;; row is a loop over its 12 fields. Fields 0, 6 and 8 (open time, close
  ;; time, trades) are JSON integers: no sign, fraction, exponent or leading
  ;; zero, at most 15 digits. The others are quoted decimals `"\d+(\.\d+)?"`
  ;; of at most 15 digits, whose value (as Number() reads it) is kept for
  ;; fields 1-4 (open, high, low, close).
  ;;
  ;; The body is at [65536, 65536 + $len), two 0 bytes after it. $step is the
  ;; interval's length in ms (fixed-length intervals only). 1: the facts are
  ;; in the globals and the gap and anomaly lists; 0: not accepted here.
  (func (export "scan") (param $len i32) (param $sliceStart f64) (param $sliceEnd f64) (param $step f64) (param $now f64) (result i32)
    (local $i i32) (local $f i32) (local $d i32) (local $s i32) (local $nInt i32) (local $scale i32) (local $m i64) (local $v f64)
    (local $o f64) (local $c f64) (local $expected f64) (local $nominal f64)
    (local $oP f64) (local $hP f64) (local $lP f64) (local $cP f64) (local $next i32) (local $stepI i64)
    (global.set $rows (i32.const 0))
    (global.set $firstOpen (f64.const -1))
    (global.set $lastOpen (f64.const -1))
    (global.set $lastClosed (f64.const -1))
    (global.set $hasOpen (i32.const 0))
    (global.set $nGaps (i32.const 0))
    (global.set $nAnoms (i32.const 0))
    (local.set $stepI (i64.trunc_f64_u (local.get $step)))
    (local.set $expected (local.get $sliceStart))
    (if (i32.ne (i32.load8_u (i32.const 65536)) (i32.const 91)) (then (return (i32.const 0))))
    (local.set $i (i32.const 65537))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 93))
      (then (local.set $i (i32.const 65538)))
      (else (block $last (loop $row
        (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 91)) (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $f (i32.const 0))
        (loop $field
          (local.set $m (i64.const 0))
          (if (i32.and (i32.shl (i32.const 1) (local.get $f)) (i32.const 0x141))
            (then ;; an integer
              (local.set $s (local.get $i))
              (block $end (loop $digit
                (local.set $d (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)))
                (br_if $end (i32.gt_u (local.get $d) (i32.const 9)))
                (local.set $m (i64.add (i64.mul (local.get $m) (i64.const 10)) (i64.extend_i32_u (local.get $d))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $digit)))
              (local.set $nInt (i32.sub (local.get $i) (local.get $s)))
              (if (i32.or (i32.eqz (local.get $nInt)) (i32.gt_u (local.get $nInt) (i32.const 15))) (then (return (i32.const 0))))
              (if (i32.and (i32.gt_u (local.get $nInt) (i32.const 1)) (i32.eq (i32.load8_u (local.get $s)) (i32.const 48))) (then (return (i32.const 0))))
              (local.set $v (f64.convert_i64_u (local.get $m))))
            (else ;; a quoted decimal
              (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34)) (then (return (i32.const 0))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (local.set $s (local.get $i))
              (block $end (loop $digit
                (local.set $d (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)))
                (br_if $end (i32.gt_u (local.get $d) (i32.const 9)))
                (local.set $m (i64.add (i64.mul (local.get $m) (i64.const 10)) (i64.extend_i32_u (local.get $d))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $digit)))
              (local.set $nInt (i32.sub (local.get $i) (local.get $s)))
              (if (i32.eqz (local.get $nInt)) (then (return (i32.const 0))))
              (local.set $scale (i32.const 0))
              (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 46)) (then
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (local.set $s (local.get $i))
                (block $end (loop $digit
                  (local.set $d (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)))
                  (br_if $end (i32.gt_u (local.get $d) (i32.const 9)))
                  (local.set $m (i64.add (i64.mul (local.get $m) (i64.const 10)) (i64.extend_i32_u (local.get $d))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $digit)))
                (local.set $scale (i32.sub (local.get $i) (local.get $s)))
                (if (i32.eqz (local.get $scale)) (then (return (i32.const 0))))))
              ;; More than 15 digits in all is refused, so $m has not overflowed in what is accepted.
              (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34)) (then (return (i32.const 0))))
              (if (i32.gt_u (i32.add (local.get $nInt) (local.get $scale)) (i32.const 15)) (then (return (i32.const 0))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (if (i32.lt_u (i32.sub (local.get $f) (i32.const 1)) (i32.const 4)) (then
                (local.set $v (f64.div (f64.convert_i64_u (local.get $m))
                                       (f64.load (i32.add (i32.const 65024) (i32.shl (local.get $scale) (i32.const 3))))))))))
          (if (i32.eqz (local.get $f)) (then (local.set $o (local.get $v))))
          (if (i32.eq (local.get $f) (i32.const 1)) (then (local.set $oP (local.get $v))))
          (if (i32.eq (local.get $f) (i32.const 2)) (then (local.set $hP (local.get $v))))
          (if (i32.eq (local.get $f) (i32.const 3)) (then (local.set $lP (local.get $v))))
          (if (i32.eq (local.get $f) (i32.const 4)) (then (local.set $cP (local.get $v))))
          (if (i32.eq (local.get $f) (i32.const 6)) (then (local.set $c (local.get $v))))
          ;; Fields end with a comma, the last with the row's bracket.
          (if (i32.ne (i32.load8_u (local.get $i)) (select (i32.const 93) (i32.const 44) (i32.eq (local.get $f) (i32.const 11))))
            (then (return (i32.const 0))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $f (i32.add (local.get $f) (i32.const 1)))
          (br_if $field (i32.lt_u (local.get $f) (i32.const 12))))
        ;; The checks validateKlines makes; any failure goes back to it for the exact error.
        (if (i32.or (f64.lt (local.get $o) (local.get $sliceStart))
                    (i32.or (f64.gt (local.get $o) (local.get $sliceEnd)) (f64.lt (local.get $o) (local.get $expected))))
          (then (return (i32.const 0))))
        (if (i64.ne (i64.rem_u (i64.trunc_f64_u (local.get $o)) (local.get $stepI)) (i64.const 0)) (then (return (i32.const 0))))
        (local.set $nominal (f64.sub (f64.add (local.get $o) (local.get $step)) (f64.const 1)))
        (if (i32.or (f64.gt (local.get $c) (local.get $nominal)) (f64.lt (local.get $c) (local.get $o))) (then (return (i32.const 0))))
        (if (f64.lt (local.get $c) (local.get $nominal)) (then
          (if (i32.ge_u (global.get $nAnoms) (i32.const 4000)) (then (return (i32.const 0))))
          (f64.store (i32.add (i32.const 32768) (i32.shl (global.get $nAnoms) (i32.const 3))) (local.get $o))
          (global.set $nAnoms (i32.add (global.get $nAnoms) (i32.const 1)))))
        (if (i32.eqz (i32.and (i32.and (f64.le (local.get $lP) (local.get $oP)) (f64.le (local.get $lP) (local.get $cP)))
                              (i32.and (f64.ge (local.get $hP) (local.get $oP)) (f64.ge (local.get $hP) (local.get $cP)))))
          (then (return (i32.const 0))))
        (if (f64.gt (local.get $o) (local.get $expected)) (then
          (if (i32.ge_u (global.get $nGaps) (i32.const 2047)) (then (return (i32.const 0))))
          (f64.store (i32.shl (global.get $nGaps) (i32.const 4)) (local.get $expected))
          (f64.store (i32.add (i32.shl (global.get $nGaps) (i32.const 4)) (i32.const 8)) (local.get $o))
          (global.set $nGaps (i32.add (global.get $nGaps) (i32.const 1)))))
        (if (f64.lt (local.get $c) (local.get $now))
          (then (global.set $lastClosed (local.get $c)))
          (else (global.set $hasOpen (i32.const 1))))
        (if (i32.eqz (global.get $rows)) (then (global.set $firstOpen (local.get $o))))
        (global.set $lastOpen (local.get $o))
        (global.set $rows (i32.add (global.get $rows) (i32.const 1)))
        (local.set $expected (f64.add (local.get $nominal) (f64.const 1)))
        (local.set $next (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $last (i32.eq (local.get $next) (i32.const 93)))
        (if (i32.ne (local.get $next) (i32.const 44)) (then (return (i32.const 0))))
        (br $row)))))
    (if (i32.ne (local.get $i) (i32.add (i32.const 65536) (local.get $len))) (then (return (i32.const 0))))
    (if (i32.and (f64.lt (local.get $sliceEnd) (local.get $now)) (f64.le (local.get $expected) (local.get $sliceEnd))) (then
      (f64.store (i32.shl (global.get $nGaps) (i32.const 4)) (local.get $expected))
      (f64.store (i32.add (i32.shl (global.get $nGaps) (i32.const 4)) (i32.const 8)) (f64.add (local.get $sliceEnd) (f64.const 1)))
      (global.set $nGaps (i32.add (global.get $nGaps) (i32.const 1)))))
    (i32.const 1))
  ;; The body at [65536, 65536 + $len), which `scan` accepted, packed at $out
  ;; (8 bytes of room past the end are written): the packed length.
  (func (export "pack") (param $len i32) (param $out i32) (result i32)
    (local $p i32) (local $v v128) (local $code v128)
    (i32.store (local.get $out) (local.get $len))
    (block $done (loop $block
      (br_if $done (i32.ge_u (local.get $p) (local.get $len)))
      (local.set $v (v128.load (i32.add (i32.const 65536) (local.get $p))))
      ;; the low 4 bits; `"` (whose low bits are a 2's) as 10
      (local.set $code (v128.bitselect (i8x16.splat (i32.const 10))
                                       (v128.and (local.get $v) (i8x16.splat (i32.const 15)))
                                       (i8x16.eq (local.get $v) (i8x16.splat (i32.const 34)))))
      ;; each pair of codes into one byte, the first in the low half
      (local.set $code (v128.or (v128.and (local.get $code) (i16x8.splat (i32.const 0x000f)))
                                (v128.and (i16x8.shr_u (local.get $code) (i32.const 4)) (i16x8.splat (i32.const 0x00f0)))))
      (i64.store (i32.add (i32.add (local.get $out) (i32.const 4)) (i32.shr_u (local.get $p) (i32.const 1)))
                 (i64x2.extract_lane 0 (i8x16.narrow_i16x8_u (local.get $code) (local.get $code))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $block)))
    (i32.add (i32.const 4) (i32.shr_u (i32.add (local.get $len) (i32.const 1)) (i32.const 1))))

  ;; The body back from a packed form at $in (whose size the caller checked
  ;; against the length it starts with), written at $out (16 bytes of room
  ;; past the end are written): its length.
  (func (export "unpack") (param $in i32) (param $out i32) (result i32)
    (local $len i32) (local $p i32) (local $codes v128)
    (local.set $len (i32.load (local.get $in)))
    (block $done (loop $block
      (br_if $done (i32.ge_u (local.get $p) (local.get $len)))
      ;; 8 packed bytes -> 16 codes, one per byte, the low half first
      (local.set $codes (i16x8.extend_low_i8x16_u
        (v128.load64_zero (i32.add (i32.add (local.get $in) (i32.const 4)) (i32.shr_u (local.get $p) (i32.const 1))))))
      (local.set $codes (v128.or (v128.and (local.get $codes) (i16x8.splat (i32.const 0x000f)))
                                 (v128.and (i16x8.shl (local.get $codes) (i32.const 4)) (i16x8.splat (i32.const 0x0f00)))))
      (v128.store (i32.add (local.get $out) (local.get $p))
                  (i8x16.swizzle (v128.const i8x16 48 49 50 51 52 53 54 55 56 57 34 91 44 93 46 63) (local.get $codes)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $block)))
    (local.get $len))

  ;; A compact body `[[a,"b",...],[...]]` at [$in, $in + $len) to CSV lines
  ;; `a,b,...\n` at $out (at most $len bytes): the JSON rows without their
  ;; brackets and quotes, which is the Binance archive's CSV. Its length, or
  ;; -1 when the body is not in that form (whitespace, escapes, nesting, no
  ;; rows).
  (func (export "csv") (param $in i32) (param $len i32) (param $out i32) (result i32)
    (local $i i32) (local $end i32) (local $j i32) (local $c i32)
    (if (i32.lt_u (local.get $len) (i32.const 4)) (then (return (i32.const -1))))
    (local.set $end (i32.add (local.get $in) (local.get $len)))
    (if (i32.or (i32.or (i32.ne (i32.load8_u (local.get $in)) (i32.const 91))
                        (i32.ne (i32.load8_u (i32.add (local.get $in) (i32.const 1))) (i32.const 91)))
                (i32.or (i32.ne (i32.load8_u (i32.sub (local.get $end) (i32.const 1))) (i32.const 93))
                        (i32.ne (i32.load8_u (i32.sub (local.get $end) (i32.const 2))) (i32.const 93))))
      (then (return (i32.const -1))))
    (local.set $i (i32.add (local.get $in) (i32.const 2)))
    (local.set $end (i32.sub (local.get $end) (i32.const 2)))
    (local.set $j (local.get $out))
    (block $done (loop $byte
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $c (i32.load8_u (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $byte (i32.eq (local.get $c) (i32.const 34)))
      (if (i32.eq (local.get $c) (i32.const 93)) (then ;; `],[` between rows
        (if (i32.or (i32.ne (i32.load8_u (local.get $i)) (i32.const 44))
                    (i32.ne (i32.load8_u (i32.add (local.get $i) (i32.const 1))) (i32.const 91)))
          (then (return (i32.const -1))))
        (i32.store8 (local.get $j) (i32.const 10))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $byte)))
      ;; whitespace, nesting, escapes: not the compact form
      (if (i32.or (i32.le_u (local.get $c) (i32.const 32)) (i32.or (i32.eq (local.get $c) (i32.const 91)) (i32.eq (local.get $c) (i32.const 92))))
        (then (return (i32.const -1))))
      (i32.store8 (local.get $j) (local.get $c))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $byte)))
    (i32.store8 (local.get $j) (i32.const 10))
    (i32.sub (i32.add (local.get $j) (i32.const 1)) (local.get $out)))
)
