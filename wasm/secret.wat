;; secret: one tenant leaves data all over its memory (2 MiB, beyond what
;; the pool keeps resident); the next tenant of the slot grows to the same
;; size and counts the non-zero words it finds.
;;
;; Every export takes (i32, i32, i32) and returns i64 (wasm/wasm2c_test.c).
(module
  (memory (export "mem") 1 32)

  (func (export "leave") (param $seed i32) (param i32) (param i32) (result i64)
    (local $a i32)
    (drop (memory.grow (i32.sub (i32.const 32) (memory.size))))
    (memory.fill (i32.const 0) (i32.or (local.get $seed) (i32.const 1))
                 (i32.const 2097152))
    ;; and a word of its own every 4 KiB
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (i32.const 2097152)))
        (i64.store offset=8 (local.get $a)
          (i64.or (i64.extend_i32_u (local.get $a)) (i64.const 0x5ec2e70000000000)))
        (local.set $a (i32.add (local.get $a) (i32.const 4096)))
        (br $next)))
    (i64.extend_i32_u (memory.size)))

  (func (export "scan") (param i32) (param i32) (param i32) (result i64)
    (local $n i64) (local $a i32)
    (drop (memory.grow (i32.sub (i32.const 32) (memory.size))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (i32.const 2097152)))
        (if (i64.ne (i64.load (local.get $a)) (i64.const 0))
          (then (local.set $n (i64.add (local.get $n) (i64.const 1)))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br $next)))
    (local.get $n))
)
