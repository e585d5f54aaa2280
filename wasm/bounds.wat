;; bounds: loads, stores, memory.fill and memory.copy at and across the end
;; of the memory, above it, above its maximum, and at the farthest
;; addresses wasm2c's code can form (an i32 address + an offset up to
;; 0xffffffff: up to 8 GiB - 2 past the memory's start), at every size
;; the memory grows to. sum() shows what a trapping store or fill left.
;;
;; Every export takes (i32, i32, i32) and returns i64 (wasm/wasm2c_test.c).
(module
  (memory (export "mem") 1 4)

  (func (export "ld8") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load8_u (local.get $a)))
  (func (export "ld16") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load16_u (local.get $a)))
  (func (export "ld32") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load32_u (local.get $a)))
  (func (export "ld64") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load (local.get $a)))
  (func (export "ld8_o1") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load8_u offset=1 (local.get $a)))
  (func (export "ld32_o64k") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load32_u offset=65536 (local.get $a)))
  (func (export "ld64_o2g") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load offset=0x7fffffff (local.get $a)))
  (func (export "ld8_omax") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load8_u offset=0xffffffff (local.get $a)))
  (func (export "ld64_omax") (param $a i32) (param i32) (param i32) (result i64)
    (i64.load offset=0xffffffff (local.get $a)))

  (func (export "st8") (param $a i32) (param $v i32) (param i32) (result i64)
    (i32.store8 (local.get $a) (local.get $v))
    (i64.const 0))
  (func (export "st16") (param $a i32) (param $v i32) (param i32) (result i64)
    (i32.store16 (local.get $a) (local.get $v))
    (i64.const 0))
  (func (export "st32") (param $a i32) (param $v i32) (param i32) (result i64)
    (i32.store (local.get $a) (local.get $v))
    (i64.const 0))
  (func (export "st64") (param $a i32) (param $v i32) (param i32) (result i64)
    (i64.store (local.get $a)
      (i64.mul (i64.extend_i32_u (local.get $v)) (i64.const 0x0000000100000001)))
    (i64.const 0))
  (func (export "st32_o64k") (param $a i32) (param $v i32) (param i32) (result i64)
    (i32.store offset=65536 (local.get $a) (local.get $v))
    (i64.const 0))
  (func (export "st8_omax") (param $a i32) (param $v i32) (param i32) (result i64)
    (i32.store8 offset=0xffffffff (local.get $a) (local.get $v))
    (i64.const 0))
  (func (export "st64_omax") (param $a i32) (param $v i32) (param i32) (result i64)
    (i64.store offset=0xffffffff (local.get $a) (i64.extend_i32_u (local.get $v)))
    (i64.const 0))

  (func (export "fill") (param $d i32) (param $v i32) (param $n i32) (result i64)
    (memory.fill (local.get $d) (local.get $v) (local.get $n))
    (i64.const 0))
  (func (export "copy") (param $d i32) (param $s i32) (param $n i32) (result i64)
    (memory.copy (local.get $d) (local.get $s) (local.get $n))
    (i64.const 0))

  (func (export "grow") (param $n i32) (param i32) (param i32) (result i64)
    (i64.extend_i32_s (memory.grow (local.get $n))))
  (func (export "size") (param i32) (param i32) (param i32) (result i64)
    (i64.extend_i32_u (memory.size)))

  ;; sum(): over the 64-bit words of the whole memory
  (func (export "sum") (param i32) (param i32) (param i32) (result i64)
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
)
