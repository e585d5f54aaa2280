;; checksum: computations over linear memory that both runtimes must agree
;; on - FNV-1a over bytes (the data segments first: written at
;; instantiation), a xorshift fill with stores of every width, a sum over
;; loads of every width and signedness - before and after memory.grow.
;;
;; Every export takes (i32, i32, i32) and returns i64: one signature for
;; the test driver (wasm/wasm2c_test.c).
(module
  (memory (export "mem") 1 16)
  (data (i32.const 0) "wasmpool: checksums over linear memory")
  (data (i32.const 65500) "\de\ad\be\ef\01\02\03\04 the end of page 0")

  ;; fnv(off, len): FNV-1a 64 over the bytes [off, off + len)
  (func (export "fnv") (param $off i32) (param $len i32) (param i32) (result i64)
    (local $h i64) (local $end i32)
    (local.set $h (i64.const 0xcbf29ce484222325))
    (local.set $end (i32.add (local.get $off) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $h (i64.mul (i64.xor (local.get $h) (i64.load8_u (local.get $off)))
                               (i64.const 0x100000001b3)))
        (local.set $off (i32.add (local.get $off) (i32.const 1)))
        (br $next)))
    (local.get $h))

  ;; scramble(seed, len): xorshift64 over [0, len) in steps of 8 bytes, an
  ;; i64 store each, then a narrower store over part of it chosen by the
  ;; state; returns the last state
  (func (export "scramble") (param $seed i32) (param $len i32) (param i32) (result i64)
    (local $x i64) (local $a i32)
    (local.set $x (i64.xor (i64.extend_i32_u (local.get $seed))
                           (i64.const 0x9e3779b97f4a7c15)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $len)))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        (i64.store (local.get $a) (local.get $x))
        (block $w
          (block $c2
            (block $c1
              (block $c0
                (br_table $c0 $c1 $c2 $w
                  (i32.and (i32.wrap_i64 (local.get $x)) (i32.const 3))))
              (i32.store8 offset=3 (local.get $a)
                (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 32))))
              (br $w))
            (i32.store16 offset=5 (local.get $a)
              (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 40))))
            (br $w))
          (i32.store offset=2 (local.get $a)
            (i32.wrap_i64 (i64.rotl (local.get $x) (i64.const 9)))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br $next)))
    (local.get $x))

  ;; wide(len): loads of every width and signedness over [0, len), mixed
  (func (export "wide") (param $len i32) (param i32) (param i32) (result i64)
    (local $s i64) (local $a i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $len)))
        (local.set $s (i64.add (i64.rotl (local.get $s) (i64.const 5))
                               (i64.load (local.get $a))))
        (local.set $s (i64.xor (local.get $s) (i64.load32_s offset=1 (local.get $a))))
        (local.set $s (i64.add (local.get $s) (i64.load16_s offset=3 (local.get $a))))
        (local.set $s (i64.sub (local.get $s)
                               (i64.extend_i32_s (i32.load8_s offset=7 (local.get $a)))))
        (local.set $s (i64.xor (local.get $s)
                               (i64.extend_i32_u (i32.load16_u offset=6 (local.get $a)))))
        (local.set $s (i64.add (local.get $s)
                               (i64.reinterpret_f64 (f64.load (local.get $a)))))
        (local.set $s (i64.xor (local.get $s)
                               (i64.extend_i32_u (i32.reinterpret_f32 (f32.load offset=4 (local.get $a))))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br $next)))
    (local.get $s))

  (func (export "grow") (param $n i32) (param i32) (param i32) (result i64)
    (i64.extend_i32_s (memory.grow (local.get $n))))
  (func (export "size") (param i32) (param i32) (param i32) (result i64)
    (i64.extend_i32_u (memory.size)))
)
