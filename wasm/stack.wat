;; stack: a recursion without end, which wasm2c's runtime ends with a
;; fault below the thread's stack - not the pool's: the backend's handler
;; passes it on to wasm2c's, which calls it stack exhaustion - and a call
;; that works after it.
;;
;; Every export takes (i32, i32, i32) and returns i64 (wasm/wasm2c_test.c).
(module
  (memory (export "mem") 1 1)

  ;; the store after the call keeps it from becoming a loop; the end at a
  ;; depth no stack has keeps the compiler from calling it infinite
  (func $down (param $n i32) (result i32)
    (local $r i32)
    (if (i32.eq (local.get $n) (i32.const -1))
      (then (return (i32.const 0))))
    (local.set $r (call $down (i32.add (local.get $n) (i32.const 1))))
    (i32.store (i32.and (local.get $n) (i32.const 0xfffc)) (local.get $r))
    (local.get $r))

  (func (export "recurse") (param i32) (param i32) (param i32) (result i64)
    (i64.extend_i32_u (call $down (i32.const 0))))
  ;; echo(n): n through memory
  (func (export "echo") (param $n i32) (param i32) (param i32) (result i64)
    (i64.store offset=65528 (i32.const 0) (i64.extend_i32_u (local.get $n)))
    (i64.load offset=65528 (i32.const 0)))
)
