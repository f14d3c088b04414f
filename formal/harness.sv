// Formal harness for SymbiYosys, around the generated Verilog (formal/run.py builds it).
//
// Read with `read_verilog -formal -sv` (Yosys' own front end, no Verific), together with
// formal/refuse.sv. The top of each proof is picked by run.py, the task by a define:
//
//   formal_core   no lost write on `mirror_core` (formal/core.py), see the module below.
//   formal_top    the whole `mirrorswap_top`:
//     TASK_AXI      host port and register port both driven by the solver under AXI rules.
//     TASK_RELEASE  firmware: ASSIGN agent 0, ESTABLISH 0 -> 1, SWEEP (the sweep engines
//                   are a stub, see formal/gen.py), RELEASE, with host traffic from the
//                   RELEASE write on; checks that no host request reaches agent 0 after
//                   RELEASE, host reads of the tracked line return the last completed
//                   write, every request is answered within LIVE cycles.
//     (neither)     the same firmware with the real sweep engines, checking the slave's
//                   copy after the sweep: kept for manual runs, too deep for `make formal`
//                   (the no-lost-write proof runs on formal_core instead).
//   formal_read   reads of a failing mirror master (failover, poison) on `read_core`
//                 (formal/read_core.py), see the module at the end.
//   formal_refuse (formal/refuse.sv) refused commands change nothing, on `control_core`.
//
// With AXI_CHECKS, the AXI rules are asserted on every output channel of the DUT (host
// port, register port, memory ports) and assumed on every input the solver drives. Only
// the top-level ports of the DUT are used, never its internal signals.

`default_nettype none

// ---------------------------------------------------------------------------------------
// Memory model behind one m_axi_mem<i> port. Tracks one line (`track`, module-local); every
// other line reads as arbitrary data. One read burst and one write burst open at a time,
// every ready/valid it drives is arbitrary but never withheld more than K cycles in a row.
// A write beat is applied when accepted; a read beat samples the memory when it is raised.
// Write responses are always OKAY. Read responses are OKAY without poison, unless:
//   RERR    any read beat of the tracked line may be bad, the solver's choice per beat:
//           SLVERR, or OKAY with poison (`ruser` = 1), or both (a failing module; the
//           read RAS proofs; other lines' beats are only timing to them).
//   POISON  the tracked line stores poison (`pois`, free initial value): a W beat with
//           `wuser` = 1 poisons it, a full-line beat (every strobe) with `wuser` = 0
//           clears it (SPEC section 7); its read beats carry `ruser` = 1 while it is set.
// A bad beat (error or poison) carries arbitrary data, never the line's.
// Asserts the AXI rules on the port's manager side (the DUT's outputs).
// ---------------------------------------------------------------------------------------
module ms_mem_model #(parameter K = 2, parameter IDW = 2, parameter DW = 64,
                      parameter RERR = 0, parameter POISON = 0) (
    input  wire clk, input wire rst,
    input  wire [IDW-1:0] awid, input wire [31:0] awaddr, input wire [7:0] awlen,
    input  wire [2:0] awsize, input wire [1:0] awburst, input wire awvalid,
    output wire awready,
    input  wire [DW-1:0] wdata, input wire [DW/8-1:0] wstrb, input wire wlast,
    input  wire wvalid, output wire wready, input wire wuser,
    output reg  [IDW-1:0] bid, output wire [1:0] bresp, output reg bvalid, input wire bready,
    input  wire [IDW-1:0] arid, input wire [31:0] araddr, input wire [7:0] arlen,
    input  wire [2:0] arsize, input wire [1:0] arburst, input wire arvalid,
    output wire arready,
    output reg  [IDW-1:0] rid, output reg [DW-1:0] rdata, output wire [1:0] rresp,
    output wire rlast, output reg rvalid, input wire rready, output reg ruser,
    input  wire [31:0] track,       // tracked line (module-local)
    output reg  [DW-1:0] val,       // the tracked line's content (free initial value)
    output wire pois,               // the tracked line is poisoned (POISON; free initially)
    output wire wr_busy,            // a write burst is open or its response not yet taken
    output wire any_req             // some request is presented (for "nothing reaches me")
);
    reg past = 0;
    always @(posedge clk) past <= 1;

    wire s_aw = $anyseq, s_w = $anyseq, s_b = $anyseq, s_ar = $anyseq, s_r = $anyseq;
    wire s_err = $anyseq, s_psn = $anyseq;     // RERR: this beat answers SLVERR / poison
    wire [DW-1:0] junk = $anyseq;
    reg pois_q;
    assign pois = POISON ? pois_q : 1'b0;
    reg [3:0] c_aw = 0, c_w = 0, c_b = 0, c_ar = 0, c_r = 0;

    // ---- write side ----
    reg aw_open = 0, b_pend = 0;
    reg [31:0] w_addr;
    reg [7:0] w_len, w_cnt;
    reg [2:0] w_size;
    reg [IDW-1:0] w_id;
    assign awready = ~rst & ~aw_open & ~b_pend & ~bvalid & (s_aw | c_aw >= K);
    assign wready = ~rst & aw_open & (s_w | c_w >= K);
    assign bresp = 2'b00;
    assign wr_busy = aw_open | b_pend | bvalid;
    wire aw_hs = awvalid & awready, w_hs = wvalid & wready, b_hs = bvalid & bready;
    wire [31:0] w_aligned = (w_addr >> w_size) << w_size;
    integer i;
    initial bvalid = 0;
    always @(posedge clk) begin
        c_aw <= (awvalid & ~awready & ~aw_open & ~b_pend & ~bvalid) ? c_aw + 1 : 0;
        c_w <= (aw_open & ~wready) ? c_w + 1 : 0;
        c_b <= (b_pend & ~bvalid) ? c_b + 1 : 0;
        if (aw_hs) begin
            aw_open <= 1; w_addr <= awaddr; w_len <= awlen; w_cnt <= 0; w_size <= awsize;
            w_id <= awid;
        end
        if (w_hs) begin
            if ((w_addr >> 3) == track) begin
                for (i = 0; i < DW/8; i = i + 1)
                    if (wstrb[i]) val[8*i +: 8] <= wdata[8*i +: 8];
                if (wuser) pois_q <= 1;
                else if (&wstrb) pois_q <= 0;
            end
            w_addr <= w_aligned + (32'd1 << w_size);
            w_cnt <= w_cnt + 1;
            if (wlast) begin aw_open <= 0; b_pend <= 1; end
        end
        if (b_pend & ~bvalid & (s_b | c_b >= K)) begin
            bvalid <= 1; bid <= w_id; b_pend <= 0;
        end
        if (b_hs) bvalid <= 0;
        if (rst) begin aw_open <= 0; b_pend <= 0; bvalid <= 0; end
    end

    // ---- read side ----
    reg ar_open = 0;
    reg [31:0] r_addr;
    reg [7:0] r_len, r_cnt;
    reg [2:0] r_size;
    assign arready = ~rst & ~ar_open & (s_ar | c_ar >= K);
    reg r_err;
    assign rresp = r_err ? 2'b10 : 2'b00;
    assign rlast = r_cnt == r_len;
    wire r_hit = (r_addr >> 3) == track;
    wire r_bad_err = RERR && r_hit && s_err, r_bad_psn = r_hit && ((RERR && s_psn) || pois);
    wire ar_hs = arvalid & arready, r_hs = rvalid & rready;
    wire [31:0] r_aligned = (r_addr >> r_size) << r_size;
    initial begin rvalid = 0; r_err = 0; ruser = 0; end
    always @(posedge clk) begin
        c_ar <= (arvalid & ~arready & ~ar_open) ? c_ar + 1 : 0;
        c_r <= (ar_open & ~rvalid) ? c_r + 1 : 0;
        if (ar_hs) begin
            ar_open <= 1; r_addr <= araddr; r_len <= arlen; r_cnt <= 0; r_size <= arsize;
            rid <= arid;
        end
        if (ar_open & ~rvalid & (s_r | c_r >= K)) begin
            rvalid <= 1;
            rdata <= (r_hit && !r_bad_err && !r_bad_psn) ? val : junk;
            r_err <= r_bad_err;
            ruser <= r_bad_psn;
        end
        if (r_hs) begin
            rvalid <= 0;
            r_addr <= r_aligned + (32'd1 << r_size);
            r_cnt <= r_cnt + 1;
            if (rlast) ar_open <= 0;
        end
        if (rst) begin ar_open <= 0; rvalid <= 0; end
    end

    assign any_req = awvalid | arvalid | wvalid;

    // ---- AXI rules on the DUT's side of the port ----
    reg aw_st = 0, w_st = 0, ar_st = 0;
    reg [IDW+32+8+3+2-1:0] aw_q, ar_q;
    reg [DW+DW/8+1-1:0] w_q;
    always @(posedge clk) begin
        aw_st <= awvalid & ~awready & ~rst; aw_q <= {awid, awaddr, awlen, awsize, awburst};
        ar_st <= arvalid & ~arready & ~rst; ar_q <= {arid, araddr, arlen, arsize, arburst};
        w_st <= wvalid & ~wready & ~rst;    w_q <= {wdata, wstrb, wlast};
    end
`ifdef AXI_CHECKS
    always @* if (past & ~rst) begin
        if (aw_st) assert (awvalid && aw_q == {awid, awaddr, awlen, awsize, awburst});
        if (ar_st) assert (arvalid && ar_q == {arid, araddr, arlen, arsize, arburst});
        if (w_st)  assert (wvalid && w_q == {wdata, wstrb, wlast});
        if (w_hs)  assert (wlast == (w_cnt == w_len));   // WLAST on the right beat
        if (aw_hs) assert (awburst == 2'b01 && awsize <= 3);
        if (ar_hs) assert (arburst == 2'b01 && arsize <= 3);
        // a burst never crosses 4 KiB (AXI rule)
        if (aw_hs) assert ({1'b0, awaddr[11:0]} + ((awlen + 13'd1) << awsize) - (awaddr[11:0] & ((13'd1 << awsize) - 1)) <= 13'd4096);
        if (ar_hs) assert ({1'b0, araddr[11:0]} + ((arlen + 13'd1) << arsize) - (araddr[11:0] & ((13'd1 << arsize) - 1)) <= 13'd4096);
    end
`endif
endmodule

// ---------------------------------------------------------------------------------------
// AXI4 host (subordinate) port: the solver drives the manager side under AXI rules (at most
// one write burst and two read bursts outstanding, W after its AW, bursts of up to MAXLEN+1
// beats, addresses below ADDR_LIMIT, ready signals held low at most K cycles); the
// subordinate side (DUT outputs) is checked. Also a shadow of what the host wrote to the
// tracked line (bytes of completed OKAY writes) and a check of host reads of that line.
// ---------------------------------------------------------------------------------------
module ms_host #(parameter IDW = 2, parameter MAXLEN = 1, parameter ADDR_LIMIT = 32'h2000,
                 parameter K = 3, parameter LIVE = 0,
                 parameter READS = 1, parameter DW = 64) (
    input  wire clk, input wire rst, input wire enable,
    output wire [IDW-1:0] awid, output wire [31:0] awaddr, output wire [7:0] awlen,
    output wire [2:0] awsize, output wire [1:0] awburst, output wire awvalid,
    input  wire awready,
    output wire [DW-1:0] wdata, output wire [DW/8-1:0] wstrb, output wire wlast,
    output wire wvalid, input  wire wready,
    input  wire [IDW-1:0] bid, input wire [1:0] bresp, input wire bvalid, output wire bready,
    output wire [IDW-1:0] arid, output wire [31:0] araddr, output wire [7:0] arlen,
    output wire [2:0] arsize, output wire [1:0] arburst, output wire arvalid,
    input  wire arready,
    input  wire [IDW-1:0] rid, input wire [DW-1:0] rdata, input wire [1:0] rresp,
    input  wire rlast, input wire rvalid, output wire rready,
    input  wire [31:0] track_host,    // tracked line as a host line address
    input  wire [DW-1:0] shadow_init,
    input  wire check_reads,          // check read data of the tracked line against the shadow
    output reg  [DW-1:0] shadow,      // last completed host write to the tracked line
    output wire wr_out,               // a host write is outstanding (AW taken, B not yet)
    output reg  wrote_track,          // a host write to the tracked line completed OKAY
    output reg  read_track_ok,        // a checked read of the tracked line returned data
    output wire read_track_now,       // ... in this cycle
    output wire write_track_now,      // a W beat to the tracked line is taken now
    output wire read_track_beat       // an R beat of the tracked line is shown now, of a
                                      // read no host write overlapped (any response)
);
    reg past = 0;
    always @(posedge clk) past <= 1;

    assign awid = $anyseq; assign awaddr = $anyseq; assign awlen = $anyseq;
    assign awsize = $anyseq; assign awburst = $anyseq; assign awvalid = $anyseq;
    assign wdata = $anyseq; assign wstrb = $anyseq; assign wlast = $anyseq;
    assign wvalid = $anyseq;
    assign arid = $anyseq; assign araddr = $anyseq; assign arlen = $anyseq;
    assign arsize = $anyseq; assign arburst = $anyseq; assign arvalid = $anyseq;
    wire s_b = $anyseq, s_r = $anyseq;
    reg [3:0] c_b = 0, c_r = 0;
    assign bready = s_b | c_b >= K;
    assign rready = s_r | c_r >= K;

    wire aw_hs = awvalid & awready, w_hs = wvalid & wready, b_hs = bvalid & bready;
    wire ar_hs = arvalid & arready, r_hs = rvalid & rready;

    // ---- write bookkeeping (one burst outstanding) ----
    reg wo = 0;                   // AW taken, B not yet
    reg [7:0] wl, wc;             // its length, W beats taken
    reg [IDW-1:0] wid;
    reg [31:0] wa;                // current beat's byte address
    reg [2:0] ws;
    reg [DW-1:0] pend; reg [DW/8-1:0] pend_m;   // bytes of the tracked line written by this burst
    reg wgood;                    // INCR, size <= 3, no 4 KiB crossing
    reg [7:0] wage = 0;
    assign wr_out = wo;
    wire [31:0] wa_al = (wa >> ws) << ws;
    wire aw_good = awburst == 2'b01 && awsize <= 3 &&
        ({1'b0, awaddr[11:0]} + ((awlen + 13'd1) << awsize) - (awaddr[11:0] & ((13'd1 << awsize) - 1)) <= 13'd4096);
    reg aw_good_q;
    assign write_track_now = w_hs && (wa >> 3) == track_host && wgood;
    integer i;
    initial begin shadow = 0; wrote_track = 0; read_track_ok = 0; end
    always @(posedge clk) begin
        c_b <= (bvalid & ~bready) ? c_b + 1 : 0;
        c_r <= (rvalid & ~rready) ? c_r + 1 : 0;
        wage <= wo ? wage + 1 : 0;
        if (aw_hs) begin
            wo <= 1; wl <= awlen; wc <= 0; wid <= awid; wa <= awaddr; ws <= awsize;
            pend_m <= 0; wgood <= aw_good;
        end
        if (w_hs) begin
            wc <= wc + 1;
            wa <= wa_al + (32'd1 << ws);
            if ((wa >> 3) == track_host)
                for (i = 0; i < DW/8; i = i + 1)
                    if (wstrb[i]) begin pend[8*i +: 8] <= wdata[8*i +: 8]; pend_m[i] <= 1; end
        end
        if (b_hs) begin
            wo <= 0;
            if (bresp == 2'b00) begin
                for (i = 0; i < DW/8; i = i + 1)
                    if (pend_m[i]) shadow[8*i +: 8] <= pend[8*i +: 8];
                if (pend_m != 0) wrote_track <= 1;
            end
        end
        if (rst) wo <= 0;
    end
    always @* if (!past) assume (shadow == shadow_init);

    // ---- read bookkeeping (two bursts outstanding, per-ID order) ----
    reg v0 = 0, v1 = 0;                 // entry 0 is the older
    reg [IDW-1:0] id0, id1;
    reg [7:0] l0, l1, c0, c1;
    reg [31:0] a0, a1;                  // current beat byte address
    reg [2:0] z0, z1;
    reg k0, k1;                         // clean: no host write overlapped this read
    reg [7:0] age0 = 0, age1 = 0;
    wire hit0 = v0 && id0 == rid;
    wire hit1 = v1 && id1 == rid && !hit0;
    wire [7:0] rl = hit0 ? l0 : l1, rc = hit0 ? c0 : c1;
    wire [31:0] ra = hit0 ? a0 : a1;
    wire [2:0] rz = hit0 ? z0 : z1;
    wire rk = hit0 ? k0 : k1;
    wire done0 = r_hs && hit0 && rlast, done1 = r_hs && hit1 && rlast;
    wire nw = aw_hs | wo;               // a host write is under way this cycle
    assign read_track_now = r_hs && rk && rresp == 2'b00 && (ra >> 3) == track_host &&
                            check_reads;
    assign read_track_beat = rvalid && (hit0 || hit1) && rk && (ra >> 3) == track_host;
    always @(posedge clk) begin
        age0 <= v0 ? age0 + 1 : 0; age1 <= v1 ? age1 + 1 : 0;
        if (nw) begin k0 <= 0; k1 <= 0; end
        if (r_hs && hit0) begin c0 <= c0 + 1; a0 <= ((a0 >> z0) << z0) + (32'd1 << z0); end
        if (r_hs && hit1) begin c1 <= c1 + 1; a1 <= ((a1 >> z1) << z1) + (32'd1 << z1); end
        if (read_track_now)
            read_track_ok <= 1;
        if (done0) begin
            // entry 1 moves up (it took no beat this cycle: the beat was entry 0's)
            v0 <= v1; id0 <= id1; l0 <= l1; a0 <= a1; z0 <= z1; k0 <= k1 & !nw; c0 <= c1;
            age0 <= age1 + 1;
            v1 <= 0;
        end else if (done1) begin
            v1 <= 0;
        end
        if (ar_hs) begin
            // the new burst goes behind whatever is still outstanding after this cycle
            if (v0 && !done0 && !(v1 && !done1) || (done0 && v1)) begin
                v1 <= 1; id1 <= arid; l1 <= arlen; c1 <= 0; a1 <= araddr; z1 <= arsize;
                k1 <= !nw; age1 <= 0;
            end else begin
                v0 <= 1; id0 <= arid; l0 <= arlen; c0 <= 0; a0 <= araddr; z0 <= arsize;
                k0 <= !nw; age0 <= 0;
            end
        end
        if (rst) begin v0 <= 0; v1 <= 0; end
    end

    // ---- assumptions on the solver's side (AXI manager rules, and the traffic window) ----
    reg aw_st = 0, w_st = 0, ar_st = 0;
    reg [IDW+32+8+3+2-1:0] aw_q, ar_q;
    reg [DW+DW/8+1-1:0] w_q;
    always @(posedge clk) begin
        aw_st <= awvalid & ~awready; aw_q <= {awid, awaddr, awlen, awsize, awburst};
        ar_st <= arvalid & ~arready; ar_q <= {arid, araddr, arlen, arsize, arburst};
        w_st <= wvalid & ~wready;    w_q <= {wdata, wstrb, wlast};
    end
    always @* begin
        if (aw_st) assume (awvalid && aw_q == {awid, awaddr, awlen, awsize, awburst});
        if (ar_st) assume (arvalid && ar_q == {arid, araddr, arlen, arsize, arburst});
        if (w_st)  assume (wvalid && w_q == {wdata, wstrb, wlast});
        if (!enable && !aw_st) assume (!awvalid);
        if (!enable && !ar_st) assume (!arvalid);
        if (wo) assume (!awvalid);                 // one write burst outstanding
        if (v1) assume (!arvalid);                 // two read bursts outstanding
        if (!READS) assume (!arvalid);
        assume (awlen <= MAXLEN && arlen <= MAXLEN);
        assume (awaddr < ADDR_LIMIT && araddr < ADDR_LIMIT);
        // W beats follow their AW, WLAST on the last one
        if (wvalid) assume (wo && wc <= wl && wlast == (wc == wl));
        if (rst) assume (!awvalid && !arvalid && !wvalid);
    end

    // ---- AXI rules on the DUT's side (subordinate outputs) ----
    reg b_st = 0, r_st = 0;
    reg [IDW+2-1:0] b_q;
    reg [IDW+DW+2+1-1:0] r_q;
    always @(posedge clk) begin
        b_st <= bvalid & ~bready & ~rst; b_q <= {bid, bresp};
        r_st <= rvalid & ~rready & ~rst; r_q <= {rid, rdata, rresp, rlast};
    end
    always @* if (past & ~rst) begin
`ifdef AXI_CHECKS
        if (b_st) assert (bvalid && b_q == {bid, bresp});
        if (r_st) assert (rvalid && r_q == {rid, rdata, rresp, rlast});
        // a response only for an accepted request, after all its W beats; its own ID
        if (bvalid) assert (wo && wc == wl + 1 && bid == wid);
        if (rvalid) assert (hit0 || hit1);
        if (rvalid && (hit0 || hit1)) assert (rlast == (rc == rl));
        if (bvalid && wo && !wgood) assert (bresp == 2'b10 || bresp == 2'b11);
`endif
        // host reads of the tracked line return the last completed write
        if (rvalid && rk && rresp == 2'b00 && (ra >> 3) == track_host && check_reads)
            read_last_write: assert (rdata == shadow);
        if (LIVE) assert (wage < LIVE && age0 < LIVE && age1 < LIVE);
    end
endmodule

// ---------------------------------------------------------------------------------------
// AXI4-Lite register port: output rules (responses held, only for accepted requests).
// ---------------------------------------------------------------------------------------
module ms_lite_check (
    input wire clk, input wire rst,
    input wire awvalid, input wire awready, input wire wvalid, input wire wready,
    input wire [1:0] bresp, input wire bvalid, input wire bready,
    input wire arvalid, input wire arready,
    input wire [31:0] rdata, input wire [1:0] rresp, input wire rvalid, input wire rready
);
    reg past = 0;
    always @(posedge clk) past <= 1;
    reg [2:0] aws = 0, ws = 0, bs = 0, ars = 0, rs = 0;   // handshakes counted
    always @(posedge clk) begin
        aws <= aws + (awvalid & awready); ws <= ws + (wvalid & wready);
        bs <= bs + (bvalid & bready); ars <= ars + (arvalid & arready);
        rs <= rs + (rvalid & rready);
        if (rst) begin aws <= 0; ws <= 0; bs <= 0; ars <= 0; rs <= 0; end
    end
    reg b_st = 0, r_st = 0;
    reg [1:0] b_q; reg [33:0] r_q;
    always @(posedge clk) begin
        b_st <= bvalid & ~bready & ~rst; b_q <= bresp;
        r_st <= rvalid & ~rready & ~rst; r_q <= {rdata, rresp};
    end
`ifdef AXI_CHECKS
    always @* if (past & ~rst) begin
        if (b_st) assert (bvalid && b_q == bresp);
        if (r_st) assert (rvalid && r_q == {rdata, rresp});
        if (bvalid) assert (aws != bs && ws != bs);
        if (rvalid) assert (ars != rs);
    end
`endif
endmodule

// ---------------------------------------------------------------------------------------
// The top of the proof: DUT, memory models, host, firmware, properties.
// ---------------------------------------------------------------------------------------
`ifndef NSWEEP
`define NSWEEP 2
`endif
`ifndef LIVE
`define LIVE 0
`endif
`ifndef HOST_READS
`define HOST_READS 1
`endif
`ifndef HOST_LIMIT
`define HOST_LIMIT 32'h2000
`endif

module formal_top (input wire clk);
    localparam IDW = 2, DW = 64;
    reg past = 0;
    always @(posedge clk) past <= 1;
    wire rst = ~past;                       // reset high in the first cycle only

    // ---- tracked line ----
    wire [31:0] track = $anyconst;          // module-local = host line (agent 0's BASE is 0)
    wire [63:0] init0 = $anyconst, init1 = $anyconst;

    // ---- the DUT's ports ----
`define AXI_WIRES(p) \
    wire [IDW-1:0] p``_awid, p``_arid, p``_bid, p``_rid; \
    wire [31:0] p``_awaddr, p``_araddr; wire [7:0] p``_awlen, p``_arlen; \
    wire [2:0] p``_awsize, p``_arsize; wire [1:0] p``_awburst, p``_arburst; \
    wire p``_awvalid, p``_awready, p``_arvalid, p``_arready; \
    wire [DW-1:0] p``_wdata, p``_rdata; wire [DW/8-1:0] p``_wstrb; \
    wire p``_wlast, p``_wvalid, p``_wready; wire [1:0] p``_bresp, p``_rresp; \
    wire p``_bvalid, p``_bready, p``_rlast, p``_rvalid, p``_rready;
    `AXI_WIRES(h)
    `AXI_WIRES(m0)
    `AXI_WIRES(m1)
    wire [11:0] l_awaddr, l_araddr; wire [31:0] l_wdata, l_rdata; wire [3:0] l_wstrb;
    wire l_awvalid, l_awready, l_wvalid, l_wready, l_bvalid, l_bready;
    wire l_arvalid, l_arready, l_rvalid, l_rready; wire [1:0] l_bresp, l_rresp;
    wire [4:0] cap0, cap1;
    wire irq;

`define AXI_PORTS(dp, p) \
    .dp``_awid(p``_awid), .dp``_awaddr(p``_awaddr), .dp``_awlen(p``_awlen), \
    .dp``_awsize(p``_awsize), .dp``_awburst(p``_awburst), .dp``_awvalid(p``_awvalid), \
    .dp``_awready(p``_awready), .dp``_wdata(p``_wdata), .dp``_wstrb(p``_wstrb), \
    .dp``_wlast(p``_wlast), .dp``_wvalid(p``_wvalid), .dp``_wready(p``_wready), \
    .dp``_bid(p``_bid), .dp``_bresp(p``_bresp), .dp``_bvalid(p``_bvalid), \
    .dp``_bready(p``_bready), .dp``_arid(p``_arid), .dp``_araddr(p``_araddr), \
    .dp``_arlen(p``_arlen), .dp``_arsize(p``_arsize), .dp``_arburst(p``_arburst), \
    .dp``_arvalid(p``_arvalid), .dp``_arready(p``_arready), .dp``_rid(p``_rid), \
    .dp``_rdata(p``_rdata), .dp``_rresp(p``_rresp), .dp``_rlast(p``_rlast), \
    .dp``_rvalid(p``_rvalid), .dp``_rready(p``_rready)

    mirrorswap_top dut (
        .clk(clk), .rst(rst),
        `AXI_PORTS(s_axi, h),
        .s_axi_awlock(1'b0), .s_axi_awcache(4'd0), .s_axi_awprot(3'd0), .s_axi_awqos(4'd0),
        .s_axi_arlock(1'b0), .s_axi_arcache(4'd0), .s_axi_arprot(3'd0), .s_axi_arqos(4'd0),
        .s_axil_awaddr(l_awaddr), .s_axil_awprot(3'd0), .s_axil_awvalid(l_awvalid),
        .s_axil_awready(l_awready), .s_axil_wdata(l_wdata), .s_axil_wstrb(l_wstrb),
        .s_axil_wvalid(l_wvalid), .s_axil_wready(l_wready), .s_axil_bresp(l_bresp),
        .s_axil_bvalid(l_bvalid), .s_axil_bready(l_bready), .s_axil_araddr(l_araddr),
        .s_axil_arprot(3'd0), .s_axil_arvalid(l_arvalid), .s_axil_arready(l_arready),
        .s_axil_rdata(l_rdata), .s_axil_rresp(l_rresp), .s_axil_rvalid(l_rvalid),
        .s_axil_rready(l_rready),
        `AXI_PORTS(m_axi_mem0, m0),
        `AXI_PORTS(m_axi_mem1, m1),
        .m_axi_mem0_ruser(1'b0), .m_axi_mem1_ruser(1'b0),   // memories without poison
        .slot0_present(1'b1), .slot0_capacity_log2(cap0), .slot0_power_good(1'b1),
        .slot0_button(1'b0),
        .slot1_present(1'b1), .slot1_capacity_log2(cap1), .slot1_power_good(1'b1),
        .slot1_button(1'b0),
        .irq(irq)
    );

    // ---- memories ----
    wire [63:0] val0, val1;
    wire m0_busy, m1_busy, m0_req, m1_req;
`define MEM_PORTS(p) \
    .awid(p``_awid), .awaddr(p``_awaddr), .awlen(p``_awlen), .awsize(p``_awsize), \
    .awburst(p``_awburst), .awvalid(p``_awvalid), .awready(p``_awready), \
    .wdata(p``_wdata), .wstrb(p``_wstrb), .wlast(p``_wlast), .wvalid(p``_wvalid), \
    .wready(p``_wready), .bid(p``_bid), .bresp(p``_bresp), .bvalid(p``_bvalid), \
    .bready(p``_bready), .arid(p``_arid), .araddr(p``_araddr), .arlen(p``_arlen), \
    .arsize(p``_arsize), .arburst(p``_arburst), .arvalid(p``_arvalid), \
    .arready(p``_arready), .rid(p``_rid), .rdata(p``_rdata), .rresp(p``_rresp), \
    .rlast(p``_rlast), .rvalid(p``_rvalid), .rready(p``_rready)
    ms_mem_model #(.IDW(IDW)) mem0 (.clk(clk), .rst(rst), `MEM_PORTS(m0), .wuser(1'b0),
        .track(track), .val(val0), .wr_busy(m0_busy), .any_req(m0_req));
    ms_mem_model #(.IDW(IDW)) mem1 (.clk(clk), .rst(rst), `MEM_PORTS(m1), .wuser(1'b0),
        .track(track), .val(val1), .wr_busy(m1_busy), .any_req(m1_req));
    always @* if (!past) assume (val0 == init0 && val1 == init1);

    // ---- register port ----
    ms_lite_check lite (.clk(clk), .rst(rst),
        .awvalid(l_awvalid), .awready(l_awready), .wvalid(l_wvalid), .wready(l_wready),
        .bresp(l_bresp), .bvalid(l_bvalid), .bready(l_bready), .arvalid(l_arvalid),
        .arready(l_arready), .rdata(l_rdata), .rresp(l_rresp), .rvalid(l_rvalid),
        .rready(l_rready));

    // ---- firmware: a fixed program of register accesses (AXI4-Lite manager) ----
    localparam OP_END = 0, OP_WR = 1, OP_POLL = 2, OP_RD = 3;
    localparam A0 = 12'h100, A1 = 12'h140;              // agent register blocks
    localparam STATUS = 12'h00, CMD = 12'h04, BASE = 12'h08, SIZE = 12'h0C,
               SWEEP_START = 12'h14, SWEEP_COUNT = 12'h18, SWEPT_UPTO = 12'h1C;
    localparam ASSIGN = 1, ESTABLISH = 2, SWEEP = 3, RELEASE = 4, ABORT = 5, UNASSIGN = 6;
    localparam IDLE = 1, ACTIVE = 2, MASTER = 3, SLAVE = 4;
    reg [4:0] pc = 0;
    reg [2:0] st = 0;          // 0 issue, 1 write in flight, 2 wait B, 3 read in flight, 4 wait R
    reg aw_done = 0, w_done = 0;
    reg [1:0] op; reg [11:0] addr; reg [31:0] wdata; reg [2:0] want_mode;
    reg [31:0] last_rd;        // last value read
    reg [3:0] last_err;        // err of the last poll
    reg [15:0] poll_marks;     // bit p: step p (a poll) has completed

`ifdef TASK_AXI
    always @* begin op = OP_END; addr = 0; wdata = 0; want_mode = 0; end
    // slots: present and powered; capacity any (module of 2^cap lines, reported up to 2^9)
    assign cap0 = $anyconst;
    assign cap1 = $anyconst;
`else
    // ESTABLISH from agent 0 to agent 1 and SWEEP lines [0, NSWEEP) (RELEASE task: then
    // RELEASE). Outcomes are asserted, so a refused step is a failure, not a vacuous pass.
    localparam P_EST = 4, P_SWEEP = 6, P_REL = 8;
    always @* begin
        op = OP_END; addr = 0; wdata = 0; want_mode = 0;
        case (pc)
        0: begin op = OP_WR; addr = A0 + SIZE; wdata = 512; end
        1: begin op = OP_WR; addr = A0 + CMD; wdata = ASSIGN; end
        // written while ASSIGN is busy: saves a step of the program
        2: begin op = OP_WR; addr = A0 + SWEEP_COUNT; wdata = `NSWEEP; end
        3: begin op = OP_POLL; addr = A0 + STATUS; want_mode = ACTIVE; end
        4: begin op = OP_WR; addr = A0 + CMD; wdata = ESTABLISH | (1 << 8); end
        5: begin op = OP_POLL; addr = A0 + STATUS; want_mode = MASTER; end
        6: begin op = OP_WR; addr = A0 + CMD; wdata = SWEEP; end
        7: begin op = OP_POLL; addr = A0 + STATUS; want_mode = MASTER; end
`ifdef TASK_RELEASE
        8: begin op = OP_WR; addr = A0 + CMD; wdata = RELEASE; end
        9: begin op = OP_POLL; addr = A0 + STATUS; want_mode = IDLE; end
        10: begin op = OP_POLL; addr = A1 + STATUS; want_mode = ACTIVE; end
`else
        8: begin op = OP_RD; addr = A0 + SWEPT_UPTO; end
`endif
        default: ;
        endcase
    end
    assign cap0 = 5'd9;
    assign cap1 = 5'd9;
`endif

`ifdef TASK_AXI
    // the register port is driven by the solver under the AXI4-Lite manager rules
    assign l_awaddr = $anyseq; assign l_wdata = $anyseq; assign l_wstrb = $anyseq;
    assign l_araddr = $anyseq; assign l_awvalid = $anyseq; assign l_wvalid = $anyseq;
    assign l_bready = $anyseq; assign l_arvalid = $anyseq; assign l_rready = $anyseq;
    reg law_st = 0, lw_st = 0, lar_st = 0;
    reg [11:0] law_q, lar_q; reg [35:0] lw_q;
    always @(posedge clk) begin
        law_st <= l_awvalid & ~l_awready; law_q <= l_awaddr;
        lw_st <= l_wvalid & ~l_wready; lw_q <= {l_wdata, l_wstrb};
        lar_st <= l_arvalid & ~l_arready; lar_q <= l_araddr;
    end
    always @* begin
        if (law_st) assume (l_awvalid && l_awaddr == law_q);
        if (lw_st) assume (l_wvalid && {l_wdata, l_wstrb} == lw_q);
        if (lar_st) assume (l_arvalid && l_araddr == lar_q);
        if (rst) assume (!l_awvalid && !l_wvalid && !l_arvalid);
    end
`else
    assign l_awaddr = addr; assign l_wdata = wdata; assign l_wstrb = 4'hf;
    assign l_araddr = addr;
    assign l_awvalid = st == 1 && !aw_done;
    assign l_wvalid = st == 1 && !w_done;
    assign l_bready = 1;
    assign l_arvalid = st == 3;
    assign l_rready = 1;
`endif
    // op kind of the next step (the program runs back to back: each step's first cycle is
    // the completion cycle of the one before, which keeps the proofs' depth down)
    function [1:0] kind(input [4:0] p);
        case (p)
`ifndef TASK_AXI
        0, 1, 2, 4, 6: kind = OP_WR;
        3, 5, 7: kind = OP_POLL;
`ifdef TASK_RELEASE
        8: kind = OP_WR;
        9, 10: kind = OP_POLL;
`else
        8: kind = OP_RD;
`endif
`endif
        default: kind = OP_END;
        endcase
    endfunction
    wire [2:0] st_next = kind(pc + 5'd1) == OP_WR ? 3'd1 :
                         kind(pc + 5'd1) == OP_END ? 3'd0 : 3'd3;
    initial poll_marks = 0;
    always @(posedge clk) begin
        if (!rst) case (st)
        0: if (op == OP_WR) begin st <= 1; aw_done <= 0; w_done <= 0; end
           else if (op != OP_END) st <= 3;
        1: begin
            if (l_awready) aw_done <= 1;
            if (l_wready) w_done <= 1;
            if ((aw_done || l_awready) && (w_done || l_wready)) st <= 2;
        end
        2: if (l_bvalid) begin st <= st_next; pc <= pc + 1; aw_done <= 0; w_done <= 0; end
        3: if (l_arready) st <= 4;
        4: if (l_rvalid) begin
            last_rd <= l_rdata;
            if (op == OP_POLL && l_rdata[4]) st <= 3;     // still busy: read again
            else begin
                st <= st_next; pc <= pc + 1; aw_done <= 0; w_done <= 0;
                if (op == OP_POLL) begin
                    last_err <= l_rdata[19:16];
                    poll_marks[pc] <= 1;
                end
            end
        end
        default: ;
        endcase
    end
    // register writes of the program answer OKAY; polled commands end as expected
`ifndef TASK_AXI
    always @* if (past && !rst) begin
        if (l_bvalid) assert (l_bresp == 2'b00);
        if (l_rvalid) assert (l_rresp == 2'b00);
        if (st == 4 && l_rvalid && op == OP_POLL && !l_rdata[4])
            assert (l_rdata[19:16] == 0 && l_rdata[2:0] == want_mode);
        if (st == 4 && l_rvalid && op == OP_RD)
            assert (l_rdata == `NSWEEP);               // SWEPT_UPTO after the sweep
    end
`endif

`ifdef TASK_AXI
    wire [63:0] shadow;
    wire wr_out, wrote_track, read_track_ok, write_track_now;
    ms_host #(.IDW(IDW), .ADDR_LIMIT(`HOST_LIMIT)) host (.clk(clk), .rst(rst), .enable(1'b1),
        `MEM_PORTS(h), .track_host(track), .shadow_init(init0), .check_reads(1'b0),
        .shadow(shadow), .wr_out(wr_out), .wrote_track(wrote_track),
        .read_track_ok(read_track_ok), .write_track_now(write_track_now));
`else
    // ---- host port ----
    wire established = poll_marks[P_EST + 1];     // the ESTABLISH poll is done
    wire swept = poll_marks[P_SWEEP + 1];         // the SWEEP poll is done
    wire sweeping = pc >= P_SWEEP && !swept;      // SWEEP written, not yet seen finished
    wire [63:0] shadow;
    wire wr_out, wrote_track, read_track_ok, write_track_now;
`ifdef NO_HOST
    wire host_en = 0;
    always @* cover (poll_marks[P_REL + 1]);
`elsif HOST_AFTER_SWEEP
    wire host_en = swept;
`else
    wire host_en = established;
`endif
    wire read_track_now;
    ms_host #(.IDW(IDW), .LIVE(`LIVE), .READS(`HOST_READS), .ADDR_LIMIT(`HOST_LIMIT)) host (
        .clk(clk), .rst(rst), .enable(host_en),
        `MEM_PORTS(h), .track_host(track), .shadow_init(init0), .check_reads(1'b1),
        .shadow(shadow), .wr_out(wr_out), .wrote_track(wrote_track),
        .read_track_ok(read_track_ok), .read_track_now(read_track_now),
        .write_track_now(write_track_now));

    // ---- no lost write ----
    reg wrote_during_sweep = 0;
    always @(posedge clk) if (sweeping && write_track_now) wrote_during_sweep <= 1;
    always @* begin
        assume (track < `NSWEEP);
        if (past && !rst && !wr_out) begin
            // the master holds the last completed host write (data path, strobes)
`ifdef TASK_RELEASE
            if (!poll_marks[P_REL + 1])
`endif
            assert (val0 == shadow);
`ifndef TASK_RELEASE
            // once the sweep has passed the line and while the mirror holds: slave == master
            if (swept) assert (val1 == val0);
`endif
        end
    end
`ifdef TASK_RELEASE
    // the sweep is abstracted (stub engine, see formal/gen.py): the copy is taken as done
    always @* assume (init1 == init0);
    wire released = poll_marks[P_REL + 1];
    reg wrote_during_release = 0, read_after_release = 0;
    always @(posedge clk) begin
        if (pc >= P_REL && !released && write_track_now) wrote_during_release <= 1;
        if (released && read_track_now) read_after_release <= 1;
    end
    always @* if (past && !rst) begin
        // nothing reaches the old agent after RELEASE; the new owner holds the data
        release_old_quiet: assert (!released || !m0_req);
        release_new_data: assert (!released || wr_out || val1 == shadow);
`ifdef RELEASE_COVER
        // not vacuous: RELEASE completes after a write to the tracked line while it was
        // pending; the new owner answers a read of the tracked line after RELEASE
        // (both in one trace needs a deeper run than is practical here)
        cover (released && wrote_during_release);
        cover (read_after_release);
`endif
    end
`else
    always @* if (past && !rst)
        cover (swept && wrote_during_sweep && !wr_out && val1 == val0 && pc >= 9);
`endif
`endif
endmodule

// ---------------------------------------------------------------------------------------
// No lost write, on `mirror_core` (formal/core.py): host write path + home agents + sweep
// engine of one running mirror pair (agent 0 master of [0, 512), agent 1 its slave).
// The host writes anything (any IDs, lengths up to MAXLEN+1 beats, sizes, strobes, burst
// types) to lines below HOST_LIMIT/8; the sweep of [0, NSWEEP) starts in one of the first
// cycles. Once the watermark has passed the tracked line, whenever no host write is in
// flight, the slave's copy equals the master's, and the master holds the last completed
// host write.
// ---------------------------------------------------------------------------------------
`ifndef CORE_DW
`define CORE_DW 64
`endif
`ifndef CORE_IDW
`define CORE_IDW 2
`endif
`ifndef TRACK_BITS
`define TRACK_BITS 32
`endif
module formal_core (input wire clk);
    localparam IDW = `CORE_IDW, DW = `CORE_DW;
    reg past = 0;
    always @(posedge clk) past <= 1;
    wire rst = ~past;

    // the tracked line: any line below NSWEEP (TRACK_BITS wide, so that a solver never
    // has to learn that the upper bits of a 32-bit choice are zero)
    wire [`TRACK_BITS-1:0] track_choice = $anyconst;
    wire [31:0] track = track_choice;
    wire [DW-1:0] init0 = $anyconst, init1 = $anyconst;
    `AXI_WIRES(h)
    `AXI_WIRES(m0)
    `AXI_WIRES(m1)
    wire done, prog_valid;
    wire [31:0] prog_end;
    reg started = 0;
    wire go = $anyseq;
    reg [2:0] t = 0;
    always @(posedge clk) if (t != 7) t <= t + 1;
    wire start = !rst && !started && (go || t == 5);
    always @(posedge clk) if (start) started <= 1;

    mirror_core dut (
        .clk(clk), .rst(rst),
        .s_axi_awid(h_awid), .s_axi_awaddr(h_awaddr), .s_axi_awlen(h_awlen),
        .s_axi_awsize(h_awsize), .s_axi_awburst(h_awburst), .s_axi_awvalid(h_awvalid),
        .s_axi_awready(h_awready), .s_axi_wdata(h_wdata), .s_axi_wstrb(h_wstrb),
        .s_axi_wlast(h_wlast), .s_axi_wvalid(h_wvalid), .s_axi_wready(h_wready),
        .s_axi_bid(h_bid), .s_axi_bresp(h_bresp), .s_axi_bvalid(h_bvalid),
        .s_axi_bready(h_bready),
        .s_axi_awlock(1'b0), .s_axi_awcache(4'd0), .s_axi_awprot(3'd0), .s_axi_awqos(4'd0),
        `AXI_PORTS(m_axi_mem0, m0),
        `AXI_PORTS(m_axi_mem1, m1),
        .m_axi_mem0_ruser(1'b0), .m_axi_mem1_ruser(1'b0),   // memories without poison
        .sweep_start(start), .sweep_first(32'd0), .sweep_count(`NSWEEP),
        .sweep_done(done), .sweep_progress_valid(prog_valid), .sweep_progress_end(prog_end)
    );
    assign h_rvalid = 0; assign h_rid = 0; assign h_rdata = 0; assign h_rresp = 0;
    assign h_rlast = 0; assign h_arready = 0;

    wire [DW-1:0] val0, val1;
    wire m0_busy, m1_busy, m0_req, m1_req;
    ms_mem_model #(.IDW(IDW), .DW(DW)) mem0 (.clk(clk), .rst(rst), `MEM_PORTS(m0),
        .wuser(1'b0), .track(track), .val(val0), .wr_busy(m0_busy), .any_req(m0_req));
    ms_mem_model #(.IDW(IDW), .DW(DW)) mem1 (.clk(clk), .rst(rst), `MEM_PORTS(m1),
        .wuser(1'b0), .track(track), .val(val1), .wr_busy(m1_busy), .any_req(m1_req));
    always @* if (!past) assume (val0 == init0 && val1 == init1);

    wire [DW-1:0] shadow;
    wire wr_out, wrote_track, read_track_ok, write_track_now;
    ms_host #(.IDW(IDW), .DW(DW), .READS(0), .ADDR_LIMIT(`HOST_LIMIT)) host (.clk(clk), .rst(rst),
        .enable(1'b1), `MEM_PORTS(h), .track_host(track), .shadow_init(init0),
        .check_reads(1'b0), .shadow(shadow), .wr_out(wr_out), .wrote_track(wrote_track),
        .read_track_ok(read_track_ok), .write_track_now(write_track_now));

    reg passed = 0, finished = 0, wrote_during = 0;
    always @(posedge clk) begin
        if (prog_valid && prog_end > track) passed <= 1;
        if (done && started) finished <= 1;
        if (started && !finished && write_track_now) wrote_during <= 1;
    end
    always @* begin
        assume (track < `NSWEEP);
`ifndef AXI_ONLY
        if (past && !rst && !wr_out) begin
            nolost_master: assert (val0 == shadow);   // master: last completed host write
            if (passed) nolost_slave: assert (val1 == val0);   // slave == master once swept
        end
        if (finished) assert (passed);                // the watermark covers the sweep
`endif
        if (past && !rst)
            cover (finished && wrote_during && !wr_out && val0 != init0 && init0 != init1);
    end
endmodule

// ---------------------------------------------------------------------------------------
// Reads of a failing mirror master, on `read_core` (formal/read_core.py): host read and
// write engines and the home agents of one mirror pair (agent 0 master of [0, 512), agent
// 1 its slave), no sweep. The host reads and writes anything below HOST_LIMIT (up to two
// read bursts and one write burst outstanding). Both memories may answer any read beat of
// the tracked line with SLVERR or poison (the solver's choice, arbitrary data then), and
// each stores that line's poison (free initially). The firmware's part, as the controller would
// drive it: RAS_CTRL.failover_en changes at any cycle; SWEPT_UPTO starts anywhere and may
// grow at any cycle, by any amount. The slave holds the tracked line (its data, unless
// its copy is poisoned) wherever SWEPT_UPTO says so: at the start, and when SWEPT_UPTO
// grows past it, as a sweep leaves it (the no-lost-write proof's guarantee; a master
// line that is poisoned is copied as poison). Checked on every host R beat of the tracked
// line of a read no host write overlapped:
//   READ_DATA    read_last_write: answered OKAY, it carries the last completed host write
//                (ms_host), whether the master or, after an error, the slave served it;
//   READ_POISON  poison_never_okay: answered OKAY while the master's copy is poisoned
//                only if the slave served it: failover was on, the line is below
//                SWEPT_UPTO and the slave's copy is not poisoned.
// ---------------------------------------------------------------------------------------
module formal_read (input wire clk);
    localparam IDW = `CORE_IDW, DW = `CORE_DW;
    reg past = 0;
    always @(posedge clk) past <= 1;
    wire rst = ~past;

    // the tracked line, any line the host can reach (HOST_LIMIT/8 lines, TRACK_BITS wide)
    wire [`TRACK_BITS-1:0] track_choice = $anyconst;
    wire [31:0] track = track_choice;
    wire [DW-1:0] init = $anyconst, init1 = $anyconst;   // the line; the slave's if invalid
    wire p0_init = $anyconst, p1_init = $anyconst;
    `AXI_WIRES(h)
    `AXI_WIRES(m0)
    `AXI_WIRES(m1)
    wire m0_wuser, m1_wuser, m0_ruser, m1_ruser;
    wire err_valid, err_corrected;
    wire [3:0] err_agent;
    wire [31:0] err_line;

    // RAS_CTRL.failover_en and SWEPT_UPTO of the master
    wire failover = $anyseq;
    reg fo_ever = 0;
    always @(posedge clk) if (failover) fo_ever <= 1;
    // (4 bits: 8 lines, all the host reaches, is as good as any larger value)
    wire [3:0] upto_init = $anyconst, upto_next = $anyseq;
    reg [3:0] upto;
    always @(posedge clk) upto <= upto_next;

    read_core dut (
        .clk(clk), .rst(rst),
        `AXI_PORTS(s_axi, h),
        .s_axi_awlock(1'b0), .s_axi_awcache(4'd0), .s_axi_awprot(3'd0), .s_axi_awqos(4'd0),
        .s_axi_arlock(1'b0), .s_axi_arcache(4'd0), .s_axi_arprot(3'd0), .s_axi_arqos(4'd0),
        `AXI_PORTS(m_axi_mem0, m0),
        `AXI_PORTS(m_axi_mem1, m1),
        .m_axi_mem0_wuser(m0_wuser), .m_axi_mem0_ruser(m0_ruser),
        .m_axi_mem1_wuser(m1_wuser), .m_axi_mem1_ruser(m1_ruser),
        .failover(failover), .swept_upto({28'd0, upto}),
        .rd_err_valid(err_valid), .rd_err_agent(err_agent), .rd_err_line(err_line),
        .rd_err_corrected(err_corrected)
    );

    wire [DW-1:0] val0, val1;
    wire pois0, pois1;
    wire m0_busy, m1_busy, m0_req, m1_req;
    ms_mem_model #(.IDW(IDW), .DW(DW), .RERR(1), .POISON(1)) mem0 (.clk(clk), .rst(rst),
        `MEM_PORTS(m0), .wuser(m0_wuser), .ruser(m0_ruser), .track(track), .val(val0),
        .pois(pois0), .wr_busy(m0_busy), .any_req(m0_req));
    ms_mem_model #(.IDW(IDW), .DW(DW), .RERR(1), .POISON(1)) mem1 (.clk(clk), .rst(rst),
        `MEM_PORTS(m1), .wuser(m1_wuser), .ruser(m1_ruser), .track(track), .val(val1),
        .pois(pois1), .wr_busy(m1_busy), .any_req(m1_req));

    wire [DW-1:0] shadow;
    wire wr_out, wrote_track, read_track_ok, read_track_now, write_track_now, read_track_beat;
`ifdef READ_DATA
    wire check_data = 1'b1;
`else
    wire check_data = 1'b0;
`endif
    ms_host #(.IDW(IDW), .DW(DW), .ADDR_LIMIT(`HOST_LIMIT)) host (.clk(clk), .rst(rst),
        .enable(1'b1), `MEM_PORTS(h), .track_host(track), .shadow_init(init),
        .check_reads(check_data), .shadow(shadow), .wr_out(wr_out),
        .wrote_track(wrote_track), .read_track_ok(read_track_ok),
        .read_track_now(read_track_now), .write_track_now(write_track_now),
        .read_track_beat(read_track_beat));

    always @* begin
        assume (track < `HOST_LIMIT / 8);
        assume (upto <= `HOST_LIMIT / 8 && upto_next >= upto && upto_next <= `HOST_LIMIT / 8);
        if (!past) begin
            // the master holds the line (unless poisoned); the slave too if it is swept
            assume (val0 == init && pois0 == p0_init && pois1 == p1_init && upto == upto_init);
            assume (val1 == ((track < upto_init && !p1_init) ? init : init1));
        end
        // SWEPT_UPTO passes the line only when the slave has it, or has it as poison
        if (upto <= track && upto_next > track)
            assume (pois1 || (val1 == val0 && !pois0));
    end

    always @* if (past && !rst) begin
`ifdef READ_POISON
        if (read_track_beat && h_rresp == 2'b00)
            poison_never_okay: assert (!pois0 || (fo_ever && track < upto && !pois1));
`endif
`ifdef READ_COVER
        // a failover served after a host write to the line, with the written data
        cover (read_track_beat && h_rready && h_rresp == 2'b00 && h_rdata == shadow &&
               err_valid && err_corrected && err_line == track && wrote_track &&
               shadow != init);
        // poison at the master answered SLVERR; poison at the master served by the slave
        cover (read_track_beat && h_rready && h_rresp == 2'b10 && pois0 && !failover);
        cover (read_track_beat && h_rready && h_rresp == 2'b00 && pois0);
`endif
    end
endmodule
