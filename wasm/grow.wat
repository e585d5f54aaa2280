;; grow: memory.grow one page at a time up to the maximum and beyond, a mark
;; in every new page, the marks summed; loads and stores at the last byte
;; of the grown memory and just above it.
;;
;; Every export takes (i32, i32, i32) and returns i64 (wasm/wasm2c_test.c).
(module
  (memory (export "mem") 1 32)

  (func (export "grow") (param $n i32) (param i32) (param i32) (result i64)
    (i64.extend_i32_s (memory.grow (local.get $n))))
  (func (export "size") (param i32) (param i32) (param i32) (result i64)
    (i64.extend_i32_u (memory.size)))

  ;; stamp(page): marks in the first and the last 8 bytes of a page
  (func (export "stamp") (param $p i32) (param i32) (param i32) (result i64)
    (local $a i32)
    (local.set $a (i32.mul (local.get $p) (i32.const 65536)))
    (i64.store (local.get $a)
      (i64.add (i64.extend_i32_u (local.get $p)) (i64.const 0x5a5a000000000000)))
    (i64.store offset=65528 (local.get $a)
      (i64.mul (i64.extend_i32_u (local.get $p)) (i64.const 0x0101010101010101)))
    (i64.const 0))

  ;; marks(): the first, middle and last word of every page, summed
  (func (export "marks") (param i32) (param i32) (param i32) (result i64)
    (local $p i32) (local $a i32) (local $s i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (memory.size)))
        (local.set $a (i32.mul (local.get $p) (i32.const 65536)))
        (local.set $s (i64.xor (i64.rotl (local.get $s) (i64.const 7))
                               (i64.load (local.get $a))))
        (local.set $s (i64.add (local.get $s) (i64.load offset=32768 (local.get $a))))
        (local.set $s (i64.add (local.get $s) (i64.load offset=65528 (local.get $a))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $s))

  (func (export "ld8") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load8_u (local.get $a)))
  (func (export "st8") (param $a i32) (param $v i32) (param i32) (result i64)
    (i32.store8 (local.get $a) (local.get $v))
    (i64.const 0))
)
