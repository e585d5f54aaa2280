;; zero: a memory of 0 pages - every access traps, a zero-length fill at 0
;; does not - then grown to its maximum of one page.
;;
;; Every export takes (i32, i32, i32) and returns i64 (wasm/wasm2c_test.c).
(module
  (memory (export "mem") 0 1)

  (func (export "ld8") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load8_u (local.get $a)))
  (func (export "ld64") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load (local.get $a)))
  (func (export "ld64_omax") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load offset=0xffffffff (local.get $a)))
  (func (export "st8") (param $a i32) (param $v i32) (param i32) (result i64)
    (i32.store8 (local.get $a) (local.get $v))
    (i64.const 0))
  (func (export "fill") (param $d i32) (param $v i32) (param $n i32) (result i64)
    (memory.fill (local.get $d) (local.get $v) (local.get $n))
    (i64.const 0))
  (func (export "grow") (param $n i32) (param i32) (param i32) (result i64)
    (i64.extend_i32_s (memory.grow (local.get $n))))
  (func (export "size") (param i32) (param i32) (param i32) (result i64)
    (i64.extend_i32_u (memory.size)))
)
