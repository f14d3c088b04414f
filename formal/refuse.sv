// Refused commands change nothing (SPEC section 4 "A refused command changes no state",
// section 5.5), on `control_core` (formal/control.py: ControlRegisters + MirrorController of
// 2 agents, as wired in rtl/top.py). Read together with formal/harness.sv (ms_lite_check).
//
// The solver is the firmware: any AXI4-Lite traffic to any register (any opcode, peer,
// BASE, SIZE, SWEEP_START/COUNT, SLOT_CTRL ...), any slot presence / power / capacity at any
// time, any memory-error reports, any "host port quiet" answer, and sweep engines that
// report progress and finish whenever they like once started.
//
// A command is refused when the controller signals cmd_done for it and err takes one of
// BAD_STATE, BAD_PEER, CAPACITY, NOT_SWEPT, OVERLAP, BAD_RANGE, BAD_OPCODE, BUSY (MEM_ERROR
// ends an accepted SWEEP, POWER answers a SLOT_CTRL write: neither is a refused command).
// Across that cycle, for both agents:
//   - BASE and SIZE (the routes' ranges) and peers do not change;
//   - modes do not change, unless a power transition is due in that cycle (a slot lost or
//     gained power: independent of the command, and deferred by the controller while it
//     checks and executes, so refusals by the checks get no exemption at all);
//   - SWEPT_UPTO does not change, unless that agent's running sweep reported progress in
//     that cycle or a failed forwarded write was reported for it (both independent of the
//     command; a refused SWEEP never starts an engine), or a power transition is due.
// Covers (REFUSE_COVER): a refusal of each opcode, with each error code, in each mode.
//
// With TASK_LOCK the same harness proves SPEC section 8 instead (`locked_writes`): awprot
// is free too, the solver sets LOCK with a secure write and issues only non-secure writes
// after; while LOCK is set no command pulse, no refused power-off, no change of any value
// software writes (LOCK, DEBOUNCE, BLINK, SWEEP_START/COUNT, THROTTLE, IRQ_EN, SLOT_CTRL's
// outputs; BASE/SIZE but for the core's copy into a new slave), no EVENTS bit cleared, and
// every write answered SLVERR. Covers (LOCK_COVER): a refused write, also during a command.

`default_nettype none

module formal_refuse (input wire clk);
    localparam N = 2;
    reg past = 0;
    always @(posedge clk) past <= 1;
    wire rst = ~past;

    // ---- register port: the solver, under the AXI4-Lite manager rules ----
    wire [11:0] l_awaddr = $anyseq, l_araddr = $anyseq;
    wire [31:0] l_wdata = $anyseq;
    wire [3:0] l_wstrb = $anyseq;
`ifdef TASK_LOCK
    wire [2:0] l_awprot = $anyseq;     // [1]: non-secure
`else
    wire [2:0] l_awprot = 3'd0;
`endif
    wire l_awvalid = $anyseq, l_wvalid = $anyseq, l_bready = $anyseq, l_arvalid = $anyseq,
         l_rready = $anyseq;
    wire l_awready, l_wready, l_bvalid, l_arready, l_rvalid;
    wire [1:0] l_bresp, l_rresp;
    wire [31:0] l_rdata;
    reg law_st = 0, lw_st = 0, lar_st = 0;
    reg [14:0] law_q; reg [11:0] lar_q; reg [35:0] lw_q;
    always @(posedge clk) begin
        law_st <= l_awvalid & ~l_awready & ~rst; law_q <= {l_awprot, l_awaddr};
        lw_st <= l_wvalid & ~l_wready & ~rst; lw_q <= {l_wdata, l_wstrb};
        lar_st <= l_arvalid & ~l_arready & ~rst; lar_q <= l_araddr;
    end
    always @* begin
        if (law_st) assume (l_awvalid && {l_awprot, l_awaddr} == law_q);
        if (lw_st) assume (l_wvalid && {l_wdata, l_wstrb} == lw_q);
        if (lar_st) assume (l_arvalid && l_araddr == lar_q);
        if (rst) assume (!l_awvalid && !l_wvalid && !l_arvalid);
    end
`ifdef AXI_CHECKS
    ms_lite_check lite (.clk(clk), .rst(rst),
        .awvalid(l_awvalid), .awready(l_awready), .wvalid(l_wvalid), .wready(l_wready),
        .bresp(l_bresp), .bvalid(l_bvalid), .bready(l_bready), .arvalid(l_arvalid),
        .arready(l_arready), .rdata(l_rdata), .rresp(l_rresp), .rvalid(l_rvalid),
        .rready(l_rready));
`endif

    // ---- the rest of the top, free ----
    wire quiet = $anyseq;
    wire [N-1:0] present = $anyseq, power_good = $anyseq;
    wire [4:0] cap0 = $anyseq, cap1 = $anyseq;
    wire fwd_v = $anyseq, wr_v = $anyseq, rd_v = $anyseq;
    wire [3:0] fwd_a = $anyseq, wr_a = $anyseq, rd_a = $anyseq;
    wire [31:0] fwd_l = $anyseq, wr_l = $anyseq, rd_l = $anyseq;

    // sweep engines: progress, failure and done only while started and not yet done
    wire [N-1:0] sw_start, sw_cancel;
    wire [N-1:0] sw_done = $anyseq, sw_failed = $anyseq, sw_pv = $anyseq;
    wire [31:0] sw_pe0 = $anyseq, sw_pe1 = $anyseq, sw_el0 = $anyseq, sw_el1 = $anyseq;
    wire [31:0] sw_sl0, sw_sl1, sw_cnt0, sw_cnt1;
    reg [N-1:0] sw_run = 0;
    always @(posedge clk) begin
        sw_run <= (sw_run | sw_start) & ~sw_done;
        if (rst) sw_run <= 0;
    end
    always @* assume (((sw_done | sw_pv | sw_failed) & ~sw_run) == 0);

    // ---- DUT ----
    wire [2:0] mode0, mode1;
    wire [3:0] peer0, peer1, err0, err1, op0, op1;
    wire [31:0] base0, base1, size0, size1, su0, su1;
    wire busy0, busy1, done0, done1, cv0, cv1, hold, freeze;
    wire lock;        // LOCK.secure_only
    wire [15:0] debounce, blink, thr0, thr1;
    wire [31:0] sws0, swc0, sws1, swc1;
    wire [1:0] pled0, aled0, pled1, aled1;
    wire [4:0] ien0, ev0, ien1, ev1;
    wire pwr0, pwr1, rwe0, rwe1, pref0, pref1;
    control_core dut (
        .clk(clk), .rst(rst),
        .s_axil_awaddr(l_awaddr), .s_axil_awprot(l_awprot), .s_axil_awvalid(l_awvalid),
        .s_axil_awready(l_awready), .s_axil_wdata(l_wdata), .s_axil_wstrb(l_wstrb),
        .s_axil_wvalid(l_wvalid), .s_axil_wready(l_wready), .s_axil_bresp(l_bresp),
        .s_axil_bvalid(l_bvalid), .s_axil_bready(l_bready), .s_axil_araddr(l_araddr),
        .s_axil_arprot(3'd0), .s_axil_arvalid(l_arvalid), .s_axil_arready(l_arready),
        .s_axil_rdata(l_rdata), .s_axil_rresp(l_rresp), .s_axil_rvalid(l_rvalid),
        .s_axil_rready(l_rready),
        .quiet(quiet), .hold(hold), .freeze(freeze),
        .fwd_err_valid(fwd_v), .fwd_err_agent(fwd_a), .fwd_err_line(fwd_l),
        .wr_err_valid(wr_v), .wr_err_agent(wr_a), .wr_err_line(wr_l),
        .rd_err_valid(rd_v), .rd_err_agent(rd_a), .rd_err_line(rd_l),
        .slot0_present(present[0]), .slot0_power_good(power_good[0]),
        .slot0_capacity_log2(cap0),
        .slot1_present(present[1]), .slot1_power_good(power_good[1]),
        .slot1_capacity_log2(cap1),
        .sweep0_start(sw_start[0]), .sweep0_start_line(sw_sl0), .sweep0_count(sw_cnt0),
        .sweep0_cancel(sw_cancel[0]), .sweep0_done(sw_done[0]), .sweep0_failed(sw_failed[0]),
        .sweep0_err_line(sw_el0), .sweep0_progress_valid(sw_pv[0]),
        .sweep0_progress_end(sw_pe0),
        .sweep1_start(sw_start[1]), .sweep1_start_line(sw_sl1), .sweep1_count(sw_cnt1),
        .sweep1_cancel(sw_cancel[1]), .sweep1_done(sw_done[1]), .sweep1_failed(sw_failed[1]),
        .sweep1_err_line(sw_el1), .sweep1_progress_valid(sw_pv[1]),
        .sweep1_progress_end(sw_pe1),
        .mode0(mode0), .peer0(peer0), .base0(base0), .size0(size0), .swept_upto0(su0),
        .err0(err0), .busy0(busy0), .cmd_done0(done0), .cmd_valid0(cv0), .cmd_opcode0(op0),
        .mode1(mode1), .peer1(peer1), .base1(base1), .size1(size1), .swept_upto1(su1),
        .err1(err1), .busy1(busy1), .cmd_done1(done1), .cmd_valid1(cv1), .cmd_opcode1(op1),
        .secure_only(lock), .debounce(debounce), .blink(blink),
        .sweep_start0(sws0), .sweep_count0(swc0), .throttle0(thr0), .power_en0(pwr0),
        .power_led0(pled0), .attn_led0(aled0), .irq_en0(ien0), .events0(ev0),
        .range_we0(rwe0), .power_refused0(pref0),
        .sweep_start1(sws1), .sweep_count1(swc1), .throttle1(thr1), .power_en1(pwr1),
        .power_led1(pled1), .attn_led1(aled1), .irq_en1(ien1), .events1(ev1),
        .range_we1(rwe1), .power_refused1(pref1)
    );

`ifdef TASK_LOCK
    // ---- the LOCK property (SPEC section 8) ----
    // The solver may write anything, secure or not, until LOCK.secure_only is set (by a
    // secure write: it must find one); from then on every write it issues is non-secure.
    // (A write is performed one at a time and answered before the next AW is accepted, so
    // every write performed while LOCK is set was issued while it was set.)
    always @* if (lock && l_awvalid) assume (l_awprot[1]);
    // everything software writes, a cycle ago
    reg lock_q = 0, bvalid_q = 0, rwe0_q = 0, rwe1_q = 0;
    reg [15:0] debounce_q, blink_q, thr0_q, thr1_q;
    reg [31:0] sws0_q, swc0_q, sws1_q, swc1_q, lbase0_q, lbase1_q, lsize0_q, lsize1_q;
    reg [1:0] pled0_q, aled0_q, pled1_q, aled1_q;
    reg [4:0] ien0_q, ev0_q, ien1_q, ev1_q;
    reg pwr0_q, pwr1_q;
    always @(posedge clk) begin
        lock_q <= lock & ~rst; bvalid_q <= l_bvalid & ~rst;
        rwe0_q <= rwe0; rwe1_q <= rwe1;
        debounce_q <= debounce; blink_q <= blink;
        sws0_q <= sws0; swc0_q <= swc0; thr0_q <= thr0; pwr0_q <= pwr0;
        pled0_q <= pled0; aled0_q <= aled0; ien0_q <= ien0; ev0_q <= ev0;
        sws1_q <= sws1; swc1_q <= swc1; thr1_q <= thr1; pwr1_q <= pwr1;
        pled1_q <= pled1; aled1_q <= aled1; ien1_q <= ien1; ev1_q <= ev1;
        lbase0_q <= base0; lbase1_q <= base1; lsize0_q <= size0; lsize1_q <= size1;
    end
    always @* if (past && lock) begin
        // in the cycle a write is performed: no command starts, no power-off is refused
        // (which would set err POWER and cmd_done)
        lock_no_cmd: assert (!cv0 && !cv1);
        lock_no_power_refused: assert (!pref0 && !pref1);
    end
    always @* if (past && lock_q) begin
        lock_stays: assert (lock);
        lock_globals: assert (debounce == debounce_q && blink == blink_q);
        lock_agent0: assert (sws0 == sws0_q && swc0 == swc0_q && thr0 == thr0_q &&
                             ien0 == ien0_q);
        lock_agent1: assert (sws1 == sws1_q && swc1 == swc1_q && thr1 == thr1_q &&
                             ien1 == ien1_q);
        lock_slot0: assert (pwr0 == pwr0_q && pled0 == pled0_q && aled0 == aled0_q);
        lock_slot1: assert (pwr1 == pwr1_q && pled1 == pled1_q && aled1 == aled1_q);
        // events are only ever cleared by software
        lock_events: assert ((ev0_q & ~ev0) == 0 && (ev1_q & ~ev1) == 0);
        // BASE/SIZE change only where the core copies a master's range to its new slave
        // (an ESTABLISH queued before LOCK was set)
        if (!rwe0_q) lock_range0: assert (base0 == lbase0_q && size0 == lsize0_q);
        if (!rwe1_q) lock_range1: assert (base1 == lbase1_q && size1 == lsize1_q);
        // and the write is answered SLVERR
        if (l_bvalid && !bvalid_q) lock_slverr: assert (l_bresp == 2'b10);
    end
`ifdef LOCK_COVER
    always @* if (past) begin
        cover (lock_q && l_bvalid && !bvalid_q);                  // a refused write
        cover (lock_q && l_bvalid && !bvalid_q && (busy0 || busy1));  // ... during a command
    end
`endif
`else

    // ---- the property ----
    localparam OFF = 0;
    function refusal(input [3:0] e);
        refusal = e == 1 || e == 2 || e == 3 || e == 4 || e == 6 || e == 7 || e == 9 ||
                  e == 10;
    endfunction
    // the controller registers the slots' state before acting on it (rtl/controller.py)
    reg [N-1:0] alive = 0;
    always @(posedge clk) alive <= rst ? {N{1'b0}} : present & power_good;
    // A power transition may apply in this cycle: one was due in the cycle before, and the
    // sequencer's freeze deferred it in neither (the controller decides a transition in one
    // cycle and applies it in the next; this admits a little more than it does).
    wire power_seen = ((mode0 == OFF) == alive[0]) || ((mode1 == OFF) == alive[1]);
    reg power_d = 0;
    always @(posedge clk) power_d <= !rst && power_seen && !freeze;
    wire power_due = power_d && !freeze;
    reg [N-1:0] done_q = 0, pv_q = 0, fwd_a1 = 0, fwd_a2 = 0, cv_q = 0;
    reg power_q = 0;
    reg [2:0] mode0_q, mode1_q;
    reg [3:0] peer0_q, peer1_q;
    reg [31:0] base0_q, base1_q, size0_q, size1_q, su0_q, su1_q;
    always @(posedge clk) begin
        done_q <= {done1, done0} & {N{~rst}};
        cv_q <= {cv1, cv0} & {N{~rst}};
        pv_q <= sw_pv;
        fwd_a1 <= {fwd_v && fwd_a == 1, fwd_v && fwd_a == 0};
        fwd_a2 <= fwd_a1;
        power_q <= power_due;
        mode0_q <= mode0; mode1_q <= mode1; peer0_q <= peer0; peer1_q <= peer1;
        base0_q <= base0; base1_q <= base1; size0_q <= size0; size1_q <= size1;
        su0_q <= su0; su1_q <= su1;
    end
    // BAD_OPCODE and BUSY answer the CMD write itself. The same code still in err when the
    // command it was refused into ends (cmd_done, err left as the refusal set it: README)
    // is no new refusal.
    wire [N-1:0] refused = done_q & {refusal(err1) && (err1 < 9 || cv_q[1]),
                                     refusal(err0) && (err0 < 9 || cv_q[0])};
    always @* if (past && |refused) begin
        assert (base0 == base0_q && size0 == size0_q && base1 == base1_q && size1 == size1_q);
        assert (peer0 == peer0_q && peer1 == peer1_q);
        if (!power_q) assert (mode0 == mode0_q && mode1 == mode1_q);
        if (!power_q && !pv_q[0] && !fwd_a2[0]) assert (su0 == su0_q);
        if (!power_q && !pv_q[1] && !fwd_a2[1]) assert (su1 == su1_q);
    end

`ifdef REFUSE_COVER
    // which opcode was refused: the one written now (refused at intake) or the one queued
    reg [3:0] acc_op0 = 0, ref_op0_q = 0;
    always @(posedge clk) begin
        if (cv0 && !busy0) acc_op0 <= op0;
        ref_op0_q <= cv0 ? op0 : acc_op0;
    end
    wire checked0 = refused[0] && err0 != 9 && err0 != 10;   // refused by the checks
    always @* if (past) begin
        cover (refused[0] && err0 == 1);      // BAD_STATE
        cover (refused[0] && err0 == 2);      // BAD_PEER
        cover (refused[0] && err0 == 3);      // CAPACITY
        cover (refused[0] && err0 == 4);      // NOT_SWEPT
        cover (refused[0] && err0 == 6);      // OVERLAP
        cover (refused[0] && err0 == 7);      // BAD_RANGE
        cover (refused[0] && err0 == 9);      // BAD_OPCODE
        cover (refused[0] && err0 == 10);     // BUSY
        cover (checked0 && ref_op0_q == 1);   // ASSIGN
        cover (checked0 && ref_op0_q == 2);   // ESTABLISH
        cover (checked0 && ref_op0_q == 3);   // SWEEP
        cover (checked0 && ref_op0_q == 4);   // RELEASE
        cover (checked0 && ref_op0_q == 5);   // ABORT
        cover (checked0 && ref_op0_q == 6);   // UNASSIGN
        cover (checked0 && mode0_q == 0);     // in OFF
        cover (checked0 && mode0_q == 1);     // in IDLE
        cover (checked0 && mode0_q == 2);     // in ACTIVE
        cover (checked0 && mode0_q == 3);     // in MIRROR_MASTER
        cover (checked0 && mode0_q == 4);     // in MIRROR_SLAVE
    end
`endif
`endif
endmodule
