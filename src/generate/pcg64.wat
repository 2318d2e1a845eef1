;; PCG64 (XSL RR 128/64) draws, as numpy/random/src/pcg64/pcg64.h computes them,
;; with the 128-bit state as two i64 halves.
;;
;; Sequential draws come from four interleaved states ("lanes"): lane j holds
;; the state of every draw d with d mod 4 == j, and steps by the LCG advanced
;; four times (its multiplier and increment at MAP_K). The four chains do not
;; depend on each other, so the multiplies overlap instead of waiting on one
;; serial chain; the draws are exactly those of one stream.
;;
;; Memory (bytes):
;;   0..63     four lane states, each (hi, lo) as two i64
;;   64..95    MAP_K: multiplier (hi, lo) and increment (hi, lo) of the lane step
;;   96..111   RUN_STATE: one state (hi, lo) for strided runs
;;   112..143  MAP_RUN: multiplier and increment applied between strided draws
;;   144..175  MAP_JUMP: a map that `jump` applies once to RUN_STATE
;;   1024..    output, written by the kernels at the pointer they are given
;;
;; The global $phase is the byte offset of the lane that makes the next draw.
(module
  (memory (export "memory") 1)
  (global $phase (mut i32) (i32.const 0))

  (func (export "getPhase") (result i32) (global.get $phase))
  (func (export "setPhase") (param $p i32) (global.set $phase (local.get $p)))

  ;; High 64 bits of the unsigned 128-bit product a * b (pcg64.h's _pcg_mult64).
  (func $mulhi (param $a i64) (param $b i64) (result i64)
    (local $a0 i64) (local $a1 i64) (local $b0 i64) (local $b1 i64)
    (local $t i64) (local $w1 i64)
    (local.set $a0 (i64.and (local.get $a) (i64.const 0xffffffff)))
    (local.set $a1 (i64.shr_u (local.get $a) (i64.const 32)))
    (local.set $b0 (i64.and (local.get $b) (i64.const 0xffffffff)))
    (local.set $b1 (i64.shr_u (local.get $b) (i64.const 32)))
    (local.set $t
      (i64.add
        (i64.mul (local.get $a1) (local.get $b0))
        (i64.shr_u (i64.mul (local.get $a0) (local.get $b0)) (i64.const 32))))
    (local.set $w1
      (i64.add
        (i64.and (local.get $t) (i64.const 0xffffffff))
        (i64.mul (local.get $a0) (local.get $b1))))
    (i64.add
      (i64.add
        (i64.mul (local.get $a1) (local.get $b1))
        (i64.shr_u (local.get $t) (i64.const 32)))
      (i64.shr_u (local.get $w1) (i64.const 32))))

  ;; state at $s <- map at $m applied to it: state * mult + inc (mod 2^128).
  (func $affine (param $s i32) (param $m i32)
    (local $hi i64) (local $lo i64) (local $mh i64) (local $ml i64)
    (local $nlo i64) (local $nhi i64) (local $al i64)
    (local.set $hi (i64.load (local.get $s)))
    (local.set $lo (i64.load offset=8 (local.get $s)))
    (local.set $mh (i64.load (local.get $m)))
    (local.set $ml (i64.load offset=8 (local.get $m)))
    (local.set $al (i64.load offset=24 (local.get $m)))
    (local.set $nlo (i64.mul (local.get $lo) (local.get $ml)))
    (local.set $nhi
      (i64.add
        (call $mulhi (local.get $lo) (local.get $ml))
        (i64.add
          (i64.mul (local.get $lo) (local.get $mh))
          (i64.mul (local.get $hi) (local.get $ml)))))
    (local.set $nlo (i64.add (local.get $nlo) (local.get $al)))
    (local.set $nhi
      (i64.add
        (i64.add (local.get $nhi) (i64.load offset=16 (local.get $m)))
        (i64.extend_i32_u (i64.lt_u (local.get $nlo) (local.get $al)))))
    (i64.store (local.get $s) (local.get $nhi))
    (i64.store offset=8 (local.get $s) (local.get $nlo)))

  ;; XSL RR output of the state at $s (pcg_output_xsl_rr_128_64).
  (func $output (param $s i32) (result i64)
    (local $hi i64)
    (local.set $hi (i64.load (local.get $s)))
    (i64.rotr
      (i64.xor (local.get $hi) (i64.load offset=8 (local.get $s)))
      (i64.shr_u (local.get $hi) (i64.const 58))))

  ;; The next draw of the sequential stream (pcg64_next64).
  (func $next (result i64)
    (local $s i32)
    (local.set $s (global.get $phase))
    (call $affine (local.get $s) (i32.const 64))
    (global.set $phase (i32.and (i32.add (local.get $s) (i32.const 16)) (i32.const 63)))
    (call $output (local.get $s)))

  ;; Raw draws, unrolled (used by seqRaw).
  ;; Four draws per iteration, one per lane, with the lanes in locals; $count
  ;; must be a multiple of 4 and the phase 0.
  (func $fastRaw (param $ptr i32) (param $count i32)
    (local $end i32) (local $p i64) (local $v i64)
    (local $mh i64) (local $ml i64) (local $ah i64) (local $al i64)
    (local $m0 i64) (local $m1 i64) (local $a0 i64) (local $a1 i64) (local $t i64) (local $w i64)
    (local $h0 i64) (local $l0 i64) (local $h1 i64) (local $l1 i64)
    (local $h2 i64) (local $l2 i64) (local $h3 i64) (local $l3 i64)
    (local.set $mh (i64.load (i32.const 64)))
    (local.set $ml (i64.load (i32.const 72)))
    (local.set $ah (i64.load (i32.const 80)))
    (local.set $al (i64.load (i32.const 88)))
    (local.set $m0 (i64.and (local.get $ml) (i64.const 0xffffffff)))
    (local.set $m1 (i64.shr_u (local.get $ml) (i64.const 32)))
    (local.set $h0 (i64.load (i32.const 0)))
    (local.set $l0 (i64.load (i32.const 8)))
    (local.set $h1 (i64.load (i32.const 16)))
    (local.set $l1 (i64.load (i32.const 24)))
    (local.set $h2 (i64.load (i32.const 32)))
    (local.set $l2 (i64.load (i32.const 40)))
    (local.set $h3 (i64.load (i32.const 48)))
    (local.set $l3 (i64.load (i32.const 56)))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))

        ;; lane 0: (h, l) <- (h, l) * (mh, ml) + (ah, al); the 64 x 64 -> 128 product of
        ;; l and ml from 32-bit pieces (pcg64.h's _pcg_mult64)
        (local.set $a0 (i64.and (local.get $l0) (i64.const 0xffffffff)))
        (local.set $a1 (i64.shr_u (local.get $l0) (i64.const 32)))
        (local.set $p (i64.mul (local.get $a0) (local.get $m0)))
        (local.set $t
          (i64.add (i64.mul (local.get $a1) (local.get $m0)) (i64.shr_u (local.get $p) (i64.const 32))))
        (local.set $w (i64.add (i64.and (local.get $t) (i64.const 0xffffffff))
          (i64.mul (local.get $a0) (local.get $m1))))
        (local.set $h0
          (i64.add
            (i64.add
              (i64.add (i64.mul (local.get $a1) (local.get $m1)) (i64.shr_u (local.get $t) (i64.const 32)))
              (i64.shr_u (local.get $w) (i64.const 32)))
            (i64.add
              (i64.add (i64.mul (local.get $l0) (local.get $mh)) (i64.mul (local.get $h0) (local.get $ml)))
              (local.get $ah))))
        (local.set $l0
          (i64.add
            (i64.or (i64.shl (local.get $w) (i64.const 32)) (i64.and (local.get $p) (i64.const 0xffffffff)))
            (local.get $al)))
        (local.set $h0
          (i64.add (local.get $h0) (i64.extend_i32_u (i64.lt_u (local.get $l0) (local.get $al)))))
        (local.set $v
          (i64.rotr (i64.xor (local.get $h0) (local.get $l0)) (i64.shr_u (local.get $h0) (i64.const 58))))
        (i64.store offset=0 (local.get $ptr) (local.get $v))
        ;; lane 1: (h, l) <- (h, l) * (mh, ml) + (ah, al); the 64 x 64 -> 128 product of
        ;; l and ml from 32-bit pieces (pcg64.h's _pcg_mult64)
        (local.set $a0 (i64.and (local.get $l1) (i64.const 0xffffffff)))
        (local.set $a1 (i64.shr_u (local.get $l1) (i64.const 32)))
        (local.set $p (i64.mul (local.get $a0) (local.get $m0)))
        (local.set $t
          (i64.add (i64.mul (local.get $a1) (local.get $m0)) (i64.shr_u (local.get $p) (i64.const 32))))
        (local.set $w (i64.add (i64.and (local.get $t) (i64.const 0xffffffff))
          (i64.mul (local.get $a0) (local.get $m1))))
        (local.set $h1
          (i64.add
            (i64.add
              (i64.add (i64.mul (local.get $a1) (local.get $m1)) (i64.shr_u (local.get $t) (i64.const 32)))
              (i64.shr_u (local.get $w) (i64.const 32)))
            (i64.add
              (i64.add (i64.mul (local.get $l1) (local.get $mh)) (i64.mul (local.get $h1) (local.get $ml)))
              (local.get $ah))))
        (local.set $l1
          (i64.add
            (i64.or (i64.shl (local.get $w) (i64.const 32)) (i64.and (local.get $p) (i64.const 0xffffffff)))
            (local.get $al)))
        (local.set $h1
          (i64.add (local.get $h1) (i64.extend_i32_u (i64.lt_u (local.get $l1) (local.get $al)))))
        (local.set $v
          (i64.rotr (i64.xor (local.get $h1) (local.get $l1)) (i64.shr_u (local.get $h1) (i64.const 58))))
        (i64.store offset=8 (local.get $ptr) (local.get $v))
        ;; lane 2: (h, l) <- (h, l) * (mh, ml) + (ah, al); the 64 x 64 -> 128 product of
        ;; l and ml from 32-bit pieces (pcg64.h's _pcg_mult64)
        (local.set $a0 (i64.and (local.get $l2) (i64.const 0xffffffff)))
        (local.set $a1 (i64.shr_u (local.get $l2) (i64.const 32)))
        (local.set $p (i64.mul (local.get $a0) (local.get $m0)))
        (local.set $t
          (i64.add (i64.mul (local.get $a1) (local.get $m0)) (i64.shr_u (local.get $p) (i64.const 32))))
        (local.set $w (i64.add (i64.and (local.get $t) (i64.const 0xffffffff))
          (i64.mul (local.get $a0) (local.get $m1))))
        (local.set $h2
          (i64.add
            (i64.add
              (i64.add (i64.mul (local.get $a1) (local.get $m1)) (i64.shr_u (local.get $t) (i64.const 32)))
              (i64.shr_u (local.get $w) (i64.const 32)))
            (i64.add
              (i64.add (i64.mul (local.get $l2) (local.get $mh)) (i64.mul (local.get $h2) (local.get $ml)))
              (local.get $ah))))
        (local.set $l2
          (i64.add
            (i64.or (i64.shl (local.get $w) (i64.const 32)) (i64.and (local.get $p) (i64.const 0xffffffff)))
            (local.get $al)))
        (local.set $h2
          (i64.add (local.get $h2) (i64.extend_i32_u (i64.lt_u (local.get $l2) (local.get $al)))))
        (local.set $v
          (i64.rotr (i64.xor (local.get $h2) (local.get $l2)) (i64.shr_u (local.get $h2) (i64.const 58))))
        (i64.store offset=16 (local.get $ptr) (local.get $v))
        ;; lane 3: (h, l) <- (h, l) * (mh, ml) + (ah, al); the 64 x 64 -> 128 product of
        ;; l and ml from 32-bit pieces (pcg64.h's _pcg_mult64)
        (local.set $a0 (i64.and (local.get $l3) (i64.const 0xffffffff)))
        (local.set $a1 (i64.shr_u (local.get $l3) (i64.const 32)))
        (local.set $p (i64.mul (local.get $a0) (local.get $m0)))
        (local.set $t
          (i64.add (i64.mul (local.get $a1) (local.get $m0)) (i64.shr_u (local.get $p) (i64.const 32))))
        (local.set $w (i64.add (i64.and (local.get $t) (i64.const 0xffffffff))
          (i64.mul (local.get $a0) (local.get $m1))))
        (local.set $h3
          (i64.add
            (i64.add
              (i64.add (i64.mul (local.get $a1) (local.get $m1)) (i64.shr_u (local.get $t) (i64.const 32)))
              (i64.shr_u (local.get $w) (i64.const 32)))
            (i64.add
              (i64.add (i64.mul (local.get $l3) (local.get $mh)) (i64.mul (local.get $h3) (local.get $ml)))
              (local.get $ah))))
        (local.set $l3
          (i64.add
            (i64.or (i64.shl (local.get $w) (i64.const 32)) (i64.and (local.get $p) (i64.const 0xffffffff)))
            (local.get $al)))
        (local.set $h3
          (i64.add (local.get $h3) (i64.extend_i32_u (i64.lt_u (local.get $l3) (local.get $al)))))
        (local.set $v
          (i64.rotr (i64.xor (local.get $h3) (local.get $l3)) (i64.shr_u (local.get $h3) (i64.const 58))))
        (i64.store offset=24 (local.get $ptr) (local.get $v))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 32)))
        (br $more)))
    (i64.store (i32.const 0) (local.get $h0))
    (i64.store (i32.const 8) (local.get $l0))
    (i64.store (i32.const 16) (local.get $h1))
    (i64.store (i32.const 24) (local.get $l1))
    (i64.store (i32.const 32) (local.get $h2))
    (i64.store (i32.const 40) (local.get $l2))
    (i64.store (i32.const 48) (local.get $h3))
    (i64.store (i32.const 56) (local.get $l3)))

  ;; Doubles, unrolled (used by seqF64).
  ;; Four draws per iteration, one per lane, with the lanes in locals; $count
  ;; must be a multiple of 4 and the phase 0.
  (func $fastF64 (param $ptr i32) (param $count i32)
    (local $end i32) (local $p i64) (local $v i64)
    (local $mh i64) (local $ml i64) (local $ah i64) (local $al i64)
    (local $m0 i64) (local $m1 i64) (local $a0 i64) (local $a1 i64) (local $t i64) (local $w i64)
    (local $h0 i64) (local $l0 i64) (local $h1 i64) (local $l1 i64)
    (local $h2 i64) (local $l2 i64) (local $h3 i64) (local $l3 i64)
    (local.set $mh (i64.load (i32.const 64)))
    (local.set $ml (i64.load (i32.const 72)))
    (local.set $ah (i64.load (i32.const 80)))
    (local.set $al (i64.load (i32.const 88)))
    (local.set $m0 (i64.and (local.get $ml) (i64.const 0xffffffff)))
    (local.set $m1 (i64.shr_u (local.get $ml) (i64.const 32)))
    (local.set $h0 (i64.load (i32.const 0)))
    (local.set $l0 (i64.load (i32.const 8)))
    (local.set $h1 (i64.load (i32.const 16)))
    (local.set $l1 (i64.load (i32.const 24)))
    (local.set $h2 (i64.load (i32.const 32)))
    (local.set $l2 (i64.load (i32.const 40)))
    (local.set $h3 (i64.load (i32.const 48)))
    (local.set $l3 (i64.load (i32.const 56)))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))

        ;; lane 0
        (local.set $p (i64.mul (local.get $l0) (local.get $ml)))
        (local.set $h0
          (i64.add
            (i64.add
              ;; high half of l * ml, from 32-bit pieces (pcg64.h's _pcg_mult64)
              (local.set $a0 (i64.and (local.get $l0) (i64.const 0xffffffff)))
              (local.set $a1 (i64.shr_u (local.get $l0) (i64.const 32)))
              (local.set $t
                (i64.add (i64.mul (local.get $a1) (local.get $m0))
                  (i64.shr_u (i64.mul (local.get $a0) (local.get $m0)) (i64.const 32))))
              (i64.add
                (i64.add (i64.mul (local.get $a1) (local.get $m1)) (i64.shr_u (local.get $t) (i64.const 32)))
                (i64.shr_u
                  (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (local.get $a0) (local.get $m1)))
                  (i64.const 32)))
              (i64.add
                (i64.mul (local.get $l0) (local.get $mh))
                (i64.mul (local.get $h0) (local.get $ml))))
            (local.get $ah)))
        (local.set $l0 (i64.add (local.get $p) (local.get $al)))
        (local.set $h0
          (i64.add (local.get $h0) (i64.extend_i32_u (i64.lt_u (local.get $l0) (local.get $al)))))
        (local.set $v
          (i64.rotr (i64.xor (local.get $h0) (local.get $l0)) (i64.shr_u (local.get $h0) (i64.const 58))))
        (f64.store offset=0 (local.get $ptr)
          (f64.mul (f64.convert_i64_s (i64.shr_u (local.get $v) (i64.const 11))) (f64.const 0x1p-53)))
        ;; lane 1
        (local.set $p (i64.mul (local.get $l1) (local.get $ml)))
        (local.set $h1
          (i64.add
            (i64.add
              ;; high half of l * ml, from 32-bit pieces (pcg64.h's _pcg_mult64)
              (local.set $a0 (i64.and (local.get $l1) (i64.const 0xffffffff)))
              (local.set $a1 (i64.shr_u (local.get $l1) (i64.const 32)))
              (local.set $t
                (i64.add (i64.mul (local.get $a1) (local.get $m0))
                  (i64.shr_u (i64.mul (local.get $a0) (local.get $m0)) (i64.const 32))))
              (i64.add
                (i64.add (i64.mul (local.get $a1) (local.get $m1)) (i64.shr_u (local.get $t) (i64.const 32)))
                (i64.shr_u
                  (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (local.get $a0) (local.get $m1)))
                  (i64.const 32)))
              (i64.add
                (i64.mul (local.get $l1) (local.get $mh))
                (i64.mul (local.get $h1) (local.get $ml))))
            (local.get $ah)))
        (local.set $l1 (i64.add (local.get $p) (local.get $al)))
        (local.set $h1
          (i64.add (local.get $h1) (i64.extend_i32_u (i64.lt_u (local.get $l1) (local.get $al)))))
        (local.set $v
          (i64.rotr (i64.xor (local.get $h1) (local.get $l1)) (i64.shr_u (local.get $h1) (i64.const 58))))
        (f64.store offset=8 (local.get $ptr)
          (f64.mul (f64.convert_i64_s (i64.shr_u (local.get $v) (i64.const 11))) (f64.const 0x1p-53)))
        ;; lane 2
        (local.set $p (i64.mul (local.get $l2) (local.get $ml)))
        (local.set $h2
          (i64.add
            (i64.add
              ;; high half of l * ml, from 32-bit pieces (pcg64.h's _pcg_mult64)
              (local.set $a0 (i64.and (local.get $l2) (i64.const 0xffffffff)))
              (local.set $a1 (i64.shr_u (local.get $l2) (i64.const 32)))
              (local.set $t
                (i64.add (i64.mul (local.get $a1) (local.get $m0))
                  (i64.shr_u (i64.mul (local.get $a0) (local.get $m0)) (i64.const 32))))
              (i64.add
                (i64.add (i64.mul (local.get $a1) (local.get $m1)) (i64.shr_u (local.get $t) (i64.const 32)))
                (i64.shr_u
                  (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (local.get $a0) (local.get $m1)))
                  (i64.const 32)))
              (i64.add
                (i64.mul (local.get $l2) (local.get $mh))
                (i64.mul (local.get $h2) (local.get $ml))))
            (local.get $ah)))
        (local.set $l2 (i64.add (local.get $p) (local.get $al)))
        (local.set $h2
          (i64.add (local.get $h2) (i64.extend_i32_u (i64.lt_u (local.get $l2) (local.get $al)))))
        (local.set $v
          (i64.rotr (i64.xor (local.get $h2) (local.get $l2)) (i64.shr_u (local.get $h2) (i64.const 58))))
        (f64.store offset=16 (local.get $ptr)
          (f64.mul (f64.convert_i64_s (i64.shr_u (local.get $v) (i64.const 11))) (f64.const 0x1p-53)))
        ;; lane 3
        (local.set $p (i64.mul (local.get $l3) (local.get $ml)))
        (local.set $h3
          (i64.add
            (i64.add
              ;; high half of l * ml, from 32-bit pieces (pcg64.h's _pcg_mult64)
              (local.set $a0 (i64.and (local.get $l3) (i64.const 0xffffffff)))
              (local.set $a1 (i64.shr_u (local.get $l3) (i64.const 32)))
              (local.set $t
                (i64.add (i64.mul (local.get $a1) (local.get $m0))
                  (i64.shr_u (i64.mul (local.get $a0) (local.get $m0)) (i64.const 32))))
              (i64.add
                (i64.add (i64.mul (local.get $a1) (local.get $m1)) (i64.shr_u (local.get $t) (i64.const 32)))
                (i64.shr_u
                  (i64.add (i64.and (local.get $t) (i64.const 0xffffffff)) (i64.mul (local.get $a0) (local.get $m1)))
                  (i64.const 32)))
              (i64.add
                (i64.mul (local.get $l3) (local.get $mh))
                (i64.mul (local.get $h3) (local.get $ml))))
            (local.get $ah)))
        (local.set $l3 (i64.add (local.get $p) (local.get $al)))
        (local.set $h3
          (i64.add (local.get $h3) (i64.extend_i32_u (i64.lt_u (local.get $l3) (local.get $al)))))
        (local.set $v
          (i64.rotr (i64.xor (local.get $h3) (local.get $l3)) (i64.shr_u (local.get $h3) (i64.const 58))))
        (f64.store offset=24 (local.get $ptr)
          (f64.mul (f64.convert_i64_s (i64.shr_u (local.get $v) (i64.const 11))) (f64.const 0x1p-53)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 32)))
        (br $more)))
    (i64.store (i32.const 0) (local.get $h0))
    (i64.store (i32.const 8) (local.get $l0))
    (i64.store (i32.const 16) (local.get $h1))
    (i64.store (i32.const 24) (local.get $l1))
    (i64.store (i32.const 32) (local.get $h2))
    (i64.store (i32.const 40) (local.get $l2))
    (i64.store (i32.const 48) (local.get $h3))
    (i64.store (i32.const 56) (local.get $l3)))

  ;; $count raw 64-bit draws at $ptr.
  (func (export "seqRaw") (param $ptr i32) (param $count i32)
    (local $end i32) (local $fast i32)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $count) (i32.const 3))))
    ;; Single draws until lane 0 is next, then whole rounds of four, then the rest.
    (block $aligned
      (loop $head
        (br_if $aligned (i32.eqz (global.get $phase)))
        (br_if $aligned (i32.ge_u (local.get $ptr) (local.get $end)))
        (i64.store (local.get $ptr) (call $next))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $head)))
    (local.set $fast
      (i32.and (i32.shr_u (i32.sub (local.get $end) (local.get $ptr)) (i32.const 3)) (i32.const -4)))
    (call $fastRaw (local.get $ptr) (local.get $fast))
    (local.set $ptr (i32.add (local.get $ptr) (i32.shl (local.get $fast) (i32.const 3))))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (i64.store (local.get $ptr) (call $next))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $more))))

  ;; $count doubles at $ptr: (draw >> 11) * 2^-53 (numpy's next_double).
  (func (export "seqF64") (param $ptr i32) (param $count i32)
    (local $end i32) (local $fast i32)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $count) (i32.const 3))))
    ;; Single draws until lane 0 is next, then whole rounds of four, then the rest.
    (block $aligned
      (loop $head
        (br_if $aligned (i32.eqz (global.get $phase)))
        (br_if $aligned (i32.ge_u (local.get $ptr) (local.get $end)))
        (f64.store (local.get $ptr)
          (f64.mul (f64.convert_i64_s (i64.shr_u (call $next) (i64.const 11))) (f64.const 0x1p-53)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $head)))
    (local.set $fast
      (i32.and (i32.shr_u (i32.sub (local.get $end) (local.get $ptr)) (i32.const 3)) (i32.const -4)))
    (call $fastF64 (local.get $ptr) (local.get $fast))
    (local.set $ptr (i32.add (local.get $ptr) (i32.shl (local.get $fast) (i32.const 3))))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (f64.store (local.get $ptr)
          (f64.mul (f64.convert_i64_s (i64.shr_u (call $next) (i64.const 11))) (f64.const 0x1p-53)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $more))))

  ;; 2 * $pairs floats at $ptr: each draw gives its low then its high 32 bits
  ;; (pcg64_next32), each as (u32 >> 8) * 2^-24 (numpy's next_float).
  (func (export "seqF32") (param $ptr i32) (param $pairs i32)
    (local $end i32) (local $v i64)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $pairs) (i32.const 3))))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $v (call $next))
        (f32.store (local.get $ptr)
          (f32.mul
            (f32.convert_i32_u (i32.shr_u (i32.wrap_i64 (local.get $v)) (i32.const 8)))
            (f32.const 0x1p-24)))
        (f32.store offset=4 (local.get $ptr)
          (f32.mul
            (f32.convert_i32_u (i32.wrap_i64 (i64.shr_u (local.get $v) (i64.const 40))))
            (f32.const 0x1p-24)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $more))))

  ;; $count raw draws at $ptr from RUN_STATE: emit its output, then apply
  ;; MAP_RUN (a jump of a fixed number of draws), and repeat.
  (func (export "runRaw") (param $ptr i32) (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $count) (i32.const 3))))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (i64.store (local.get $ptr) (call $output (i32.const 96)))
        (call $affine (i32.const 96) (i32.const 112))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $more))))

  ;; RUN_STATE <- MAP_JUMP applied to it.
  (func (export "jump") (call $affine (i32.const 96) (i32.const 144)))
)
