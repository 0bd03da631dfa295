;; The klines hot path: validates a compact klines body straight from its
;; bytes and computes its facts (src/venues/binance/kline-scan.ts loads it and
;; documents the contract). Same checks as validateKlines, for intervals of a
;; fixed length; anything it does not accept returns 0 and the caller falls
;; back to JSON.parse + validateKlines, which decides and explains.
;;
;; Regenerate kline-scan-wasm.ts after editing: npm run wasm
;;
;; Memory: [0, 32768) gaps as f64 pairs (at most 2047), [32768, 64768)
;; cut-short anomalies as f64 open times (at most 4000), [65024, 65208) the
;; powers of ten, the body from 65536 on, followed by two 0 bytes.
;; Times are f64 at the boundary (exact below 2^53, no BigInt); open and
;; close times are read as integers and compared as f64, as in JavaScript.
(module
  (memory (export "memory") 2)
  (global $at (mut i32) (i32.const 0))
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

  ;; A JSON integer at $i: no sign, fraction, exponent or leading zero, at
  ;; most 15 digits; its value, or -1. Leaves the index after it in $at.
  (func $int (param $i i32) (result f64)
    (local $v i64) (local $d i32) (local $s i32)
    (local.set $s (local.get $i))
    (block $end (loop $digit
      (local.set $d (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)))
      (br_if $end (i32.gt_u (local.get $d) (i32.const 9)))
      (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (local.get $d))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $digit)))
    (global.set $at (local.get $i))
    (local.set $s (i32.sub (local.get $i) (local.get $s)))
    (if (i32.or (i32.eqz (local.get $s)) (i32.gt_u (local.get $s) (i32.const 15))) (then (return (f64.const -1))))
    (if (i32.and (i32.gt_u (local.get $s) (i32.const 1))
                 (i32.eq (i32.load8_u (i32.sub (local.get $i) (local.get $s))) (i32.const 48)))
      (then (return (f64.const -1))))
    (f64.convert_i64_u (local.get $v)))

  ;; The decimal digits from $i on, accumulated into $acc (callers count the
  ;; digits and refuse more than 15, so it cannot overflow in what they
  ;; accept). Leaves the index after the last digit in $at.
  (func $digits (param $i i32) (param $acc i64) (result i64)
    (local $d i32)
    (block $end (loop $digit
      (local.set $d (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)))
      (br_if $end (i32.gt_u (local.get $d) (i32.const 9)))
      (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 10)) (i64.extend_i32_u (local.get $d))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $digit)))
    (global.set $at (local.get $i))
    (local.get $acc))

  ;; A quoted decimal `"\d+(\.\d+)?"` of at most 15 digits at $i: its value
  ;; (as Number() reads it), or -1. Leaves the index after the quote in $at.
  (func $decimal (param $i i32) (result f64)
    (local $m i64) (local $nInt i32) (local $scale i32) (local $s i32)
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34)) (then (return (f64.const -1))))
    (local.set $s (i32.add (local.get $i) (i32.const 1)))
    (local.set $m (call $digits (local.get $s) (i64.const 0)))
    (local.set $nInt (i32.sub (global.get $at) (local.get $s)))
    (if (i32.eqz (local.get $nInt)) (then (return (f64.const -1))))
    (local.set $i (global.get $at))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 46)) (then
      (local.set $s (i32.add (local.get $i) (i32.const 1)))
      (local.set $m (call $digits (local.get $s) (local.get $m)))
      (local.set $scale (i32.sub (global.get $at) (local.get $s)))
      (if (i32.or (i32.eqz (local.get $scale)) (i32.gt_u (local.get $scale) (i32.const 22))) (then (return (f64.const -1))))
      (local.set $i (global.get $at))))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34)) (then (return (f64.const -1))))
    (if (i32.gt_u (i32.add (local.get $nInt) (local.get $scale)) (i32.const 15)) (then (return (f64.const -1))))
    (global.set $at (i32.add (local.get $i) (i32.const 1)))
    (f64.div (f64.convert_i64_u (local.get $m))
             (f64.load (i32.add (i32.const 65024) (i32.shl (local.get $scale) (i32.const 3))))))

  ;; A quoted decimal whose value is not needed: only its form is checked (1 or 0).
  (func $skip (param $i i32) (result i32)
    (local $s i32)
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34)) (then (return (i32.const 0))))
    (local.set $s (i32.add (local.get $i) (i32.const 1)))
    (drop (call $digits (local.get $s) (i64.const 0)))
    (if (i32.eq (global.get $at) (local.get $s)) (then (return (i32.const 0))))
    (local.set $i (global.get $at))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 46)) (then
      (local.set $s (i32.add (local.get $i) (i32.const 1)))
      (drop (call $digits (local.get $s) (i64.const 0)))
      (if (i32.eq (global.get $at) (local.get $s)) (then (return (i32.const 0))))
      (local.set $i (global.get $at))))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34)) (then (return (i32.const 0))))
    (global.set $at (i32.add (local.get $i) (i32.const 1)))
    (i32.const 1))

  ;; The byte at $at is $c: the field before it ended where it should.
  (func $sep (param $c i32) (result i32)
    (i32.eq (i32.load8_u (global.get $at)) (local.get $c)))

  ;; The body is at [65536, 65536 + $len), two 0 bytes after it. $step is the
  ;; interval's length in ms (fixed-length intervals only). 1: the facts are
  ;; in the globals and the gap and anomaly lists; 0: not accepted here.
  (func (export "scan") (param $len i32) (param $sliceStart f64) (param $sliceEnd f64) (param $step f64) (param $now f64) (result i32)
    (local $i i32) (local $o f64) (local $c f64) (local $expected f64) (local $nominal f64)
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
        (local.set $o (call $int (i32.add (local.get $i) (i32.const 1))))
        (if (i32.or (f64.lt (local.get $o) (f64.const 0)) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (local.set $oP (call $decimal (i32.add (global.get $at) (i32.const 1))))
        (if (i32.or (f64.lt (local.get $oP) (f64.const 0)) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (local.set $hP (call $decimal (i32.add (global.get $at) (i32.const 1))))
        (if (i32.or (f64.lt (local.get $hP) (f64.const 0)) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (local.set $lP (call $decimal (i32.add (global.get $at) (i32.const 1))))
        (if (i32.or (f64.lt (local.get $lP) (f64.const 0)) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (local.set $cP (call $decimal (i32.add (global.get $at) (i32.const 1))))
        (if (i32.or (f64.lt (local.get $cP) (f64.const 0)) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (if (i32.or (i32.eqz (call $skip (i32.add (global.get $at) (i32.const 1)))) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (local.set $c (call $int (i32.add (global.get $at) (i32.const 1))))
        (if (i32.or (f64.lt (local.get $c) (f64.const 0)) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (if (i32.or (i32.eqz (call $skip (i32.add (global.get $at) (i32.const 1)))) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (if (i32.or (f64.lt (call $int (i32.add (global.get $at) (i32.const 1))) (f64.const 0)) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (if (i32.or (i32.eqz (call $skip (i32.add (global.get $at) (i32.const 1)))) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (if (i32.or (i32.eqz (call $skip (i32.add (global.get $at) (i32.const 1)))) (i32.eqz (call $sep (i32.const 44)))) (then (return (i32.const 0))))
        (if (i32.or (i32.eqz (call $skip (i32.add (global.get $at) (i32.const 1)))) (i32.eqz (call $sep (i32.const 93)))) (then (return (i32.const 0))))
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
        (local.set $next (i32.load8_u (i32.add (global.get $at) (i32.const 1))))
        (local.set $i (i32.add (global.get $at) (i32.const 2)))
        (br_if $last (i32.eq (local.get $next) (i32.const 93)))
        (if (i32.ne (local.get $next) (i32.const 44)) (then (return (i32.const 0))))
        (br $row)))))
    (if (i32.ne (local.get $i) (i32.add (i32.const 65536) (local.get $len))) (then (return (i32.const 0))))
    (if (i32.and (f64.lt (local.get $sliceEnd) (local.get $now)) (f64.le (local.get $expected) (local.get $sliceEnd))) (then
      (f64.store (i32.shl (global.get $nGaps) (i32.const 4)) (local.get $expected))
      (f64.store (i32.add (i32.shl (global.get $nGaps) (i32.const 4)) (i32.const 8)) (f64.add (local.get $sliceEnd) (f64.const 1)))
      (global.set $nGaps (i32.add (global.get $nGaps) (i32.const 1)))))
    (i32.const 1))
)
