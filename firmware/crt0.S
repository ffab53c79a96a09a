/* Reset code of the nanoml firmware harness: set gp/sp, install a trap handler, copy .data
 * from its flash load address, clear .bss, paint the stack (so its peak use can be measured),
 * enable the counters, call main and end the simulation with main's return value. */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top
    la      t0, trap_entry
    csrw    mtvec, t0

    /* .data: flash (load address) -> data RAM */
    la      a0, __data_start
    la      a1, __data_end
    la      a2, __data_load
1:  bgeu    a0, a1, 2f
    lw      t0, 0(a2)
    sw      t0, 0(a0)
    addi    a0, a0, 4
    addi    a2, a2, 4
    j       1b

    /* .bss and the arena: zero */
2:  la      a0, __bss_start
    la      a1, __bss_end
3:  bgeu    a0, a1, 4f
    sw      zero, 0(a0)
    addi    a0, a0, 4
    j       3b

    /* stack: paint every word with 0xa5a5a5a5 (nothing lives on it yet) */
4:  la      a0, __stack_bottom
    la      a1, __stack_top
    li      t0, 0xa5a5a5a5
5:  bgeu    a0, a1, 6f
    sw      t0, 0(a0)
    addi    a0, a0, 4
    j       5b

    /* counters run (mcountinhibit = 0), then zeroed so counts start near main */
6:  csrw    0x320, zero
    csrw    minstret, zero
    csrw    minstreth, zero
    csrw    mcycle, zero
    csrw    mcycleh, zero

    li      a0, 0
    li      a1, 0
    call    main
    call    fw_exit

    .align 2
trap_entry:
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    la      sp, __stack_top
    call    fw_trap
7:  j       7b
