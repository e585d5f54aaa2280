;; tenant: what each of many instances runs, one after the other and from
;; several threads: check that its memory starts zero, work on it, make
;; three out-of-bounds accesses (each a trap), and sum the memory after
;; them (the trapping store must have left it alone).
;;
;; Every export takes (i32, i32, i32) and returns i64 (wasm/wasm2c_test.c).
(module
  (memory (export "mem") 1 8)

  ;; sum over the 64-bit words of the whole memory
  (func $sum (result i64)
    (local $s i64) (local $a i32) (local $end i32)
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 7))
                               (i64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br $next)))
    (local.get $s))

  ;; fresh(): grow to 2 pages and count the non-zero 64-bit words: what a
  ;; new tenant finds of the one before
  (func (export "fresh") (param i32) (param i32) (param i32) (result i64)
    (local $n i64) (local $a i32)
    (drop (memory.grow (i32.sub (i32.const 2) (memory.size))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (i32.const 131072)))
        (if (i64.ne (i64.load (local.get $a)) (i64.const 0))
          (then (local.set $n (i64.add (local.get $n) (i64.const 1)))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br $next)))
    (local.get $n))

  ;; work(seed): xorshift64 over the whole memory; returns its sum
  (func (export "work") (param $seed i32) (param i32) (param i32) (result i64)
    (local $x i64) (local $a i32) (local $end i32)
    (local.set $x (i64.xor (i64.extend_i32_u (local.get $seed))
                           (i64.const 0x2545f4914f6cdd1d)))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        (i64.store (local.get $a) (local.get $x))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br $next)))
    (call $sum))

  (func (export "sum") (param i32) (param i32) (param i32) (result i64)
    (call $sum))

  ;; oob(which): 0: a load just above the memory; 1: the farthest load
  ;; there is (0xffffffff + offset 0xffffffff); 2: a store across the end
  (func (export "oob") (param $which i32) (param i32) (param i32) (result i64)
    (local $size i32)
    (local.set $size (i32.mul (memory.size) (i32.const 65536)))
    (block $c2
      (block $c1
        (block $c0
          (br_table $c0 $c1 $c2 (local.get $which)))
        (return (i64.extend_i32_u (i32.load (local.get $size)))))
      (return (i64.load offset=0xffffffff (i32.const 0xffffffff))))
    (i32.store (i32.sub (local.get $size) (i32.const 2)) (i32.const -1))
    (i64.const 0))
)
