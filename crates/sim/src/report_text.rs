//! The human-readable report: a few aligned tables, every figure with its unit.

use super::SimReport;
use std::fmt::Write;

const GB: f64 = 1e9;

/// Renders `r` as text.
pub fn render(r: &SimReport) -> String {
    let mut out = String::new();
    header(&mut out, r);
    headline(&mut out, r);
    time_breakdown(&mut out, r);
    memory(&mut out, r);
    traffic(&mut out, r);
    if let Some(links) = &r.network.links {
        fabric_links(&mut out, links);
    }
    if let Some(o) = &r.offload {
        offload(&mut out, o, r);
    }
    cost(&mut out, &r.cost);
    let mode = match r.mode {
        crate::Mode::Representative => "representative mode: one GPU per pipeline stage",
        crate::Mode::PerRank => "per-rank mode: every GPU",
    };
    let _ = writeln!(
        out,
        "\nSimulated {} tasks on {} GPUs ({mode}).",
        r.simulated_tasks, r.simulated_gpus
    );
    out
}

fn header(out: &mut String, r: &SimReport) {
    let (m, p, c) = (&r.model, &r.plan, &r.cluster);
    let _ = writeln!(out, "Astrolabe: {}", r.scenario);
    if let Some(d) = &r.description {
        let _ = writeln!(out, "{d}");
    }
    let network: Vec<String> =
        c.topology.dims().iter().map(|d| format!("{} {}", d.name, d.size)).collect();
    let _ = writeln!(
        out,
        "\nModel    {}: {:.2} B parameters, {} layers, hidden {}, sequence {} tokens",
        m.name,
        m.total_params() as f64 / 1e9,
        m.layers,
        m.hidden,
        m.seq_len
    );
    let _ = writeln!(
        out,
        "Cluster  {}: {} × {}; network {}",
        c.name,
        c.gpus(),
        c.gpu.name,
        network.join(" × ")
    );
    let vp =
        if p.virtual_stages > 1 { format!(" × VP {}", p.virtual_stages) } else { String::new() };
    let cp = if p.cp > 1 { format!(" × CP {}", p.cp) } else { String::new() };
    let ep = if crate::moe::folded(p) && r.model.moe.is_some() {
        let edp = crate::moe::expert_dp(p);
        format!(" (experts folded: EP {} × expert TP {} × expert DP {edp})", p.ep, p.expert_tp)
    } else if p.ep > 1 {
        format!(" (EP {} within DP)", p.ep)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Plan     TP {}{cp} × PP {}{vp} × DP {}{ep}; micro-batch {}, global batch {} sequences \
         ({} micro-batches), {}, sequence parallel {}, ZeRO-{}, {}, recompute {}",
        p.tp,
        p.pp,
        p.dp,
        p.micro_batch,
        p.global_batch,
        p.micro_batches,
        serde_plain(&p.schedule),
        if p.sequence_parallel { "on" } else { "off" },
        p.zero_stage,
        serde_plain(&p.precision),
        serde_plain(&p.recompute),
    );
}

/// A unit enum's serde name (`1f1b`, `bf16`).
fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::from("?"),
    }
}

fn headline(out: &mut String, r: &SimReport) {
    let _ = writeln!(out, "\nStep time     {:.3} s", r.step_time_s);
    let _ = writeln!(
        out,
        "Throughput    {:.0} tokens/s ({:.1} tokens/s per GPU)",
        r.tokens_per_s, r.tokens_per_s_per_gpu
    );
    let _ = writeln!(out, "MFU           {:.1} %   (HFU {:.1} %)", r.mfu * 100.0, r.hfu * 100.0);
    let verdict = if r.fits_in_memory { "fits" } else { "DOES NOT FIT" };
    let _ = writeln!(
        out,
        "Memory        {:.1} GB of {:.1} GB per GPU (stage {}): {verdict}",
        r.memory_peak_bytes as f64 / GB,
        r.memory.capacity_bytes as f64 / GB,
        r.memory.worst_stage
    );
    if let Some(reference) = &r.reference {
        let mut published = Vec::new();
        if let Some(mfu) = reference.mfu {
            published.push(format!("MFU {:.1} % (predicted {:.1} %)", mfu * 100.0, r.mfu * 100.0));
        }
        if let Some(t) = reference.step_time_s {
            published.push(format!("step {t:.3} s (predicted {:.3} s)", r.step_time_s));
        }
        if let Some(t) = reference.tokens_per_s_per_gpu {
            published
                .push(format!("{t:.1} tokens/s per GPU (predicted {:.1})", r.tokens_per_s_per_gpu));
        }
        let _ = writeln!(
            out,
            "Published     {} [{}: {}]",
            published.join(", "),
            reference.dataset_id,
            reference.source
        );
    }
}

fn time_breakdown(out: &mut String, r: &SimReport) {
    let b = &r.breakdown;
    let _ = writeln!(
        out,
        "\nWhere the step time goes (stage {}, the busiest)        seconds   share",
        r.breakdown_stage
    );
    let cp = (r.plan.cp > 1).then_some(("exposed CP communication", b.exposed_cp_comm_s));
    let ep = r.model.moe.is_some().then_some(("exposed EP communication", b.exposed_ep_comm_s));
    let rows = [
        Some(("compute (forward, backward, recomputation)", b.compute_s)),
        Some(("exposed TP communication", b.exposed_tp_comm_s)),
        cp,
        ep,
        Some(("exposed PP communication", b.exposed_pp_comm_s)),
        Some(("exposed DP communication", b.exposed_dp_comm_s)),
        r.offload
            .as_ref()
            .map(|_| ("memory stall (offload transfers, CPU optimizer)", b.memory_stall_s)),
        Some(("pipeline bubble", b.pipeline_bubble_s)),
        Some(("optimizer step", b.optimizer_s)),
        Some(("fixed per-step overhead (host)", b.step_overhead_s)),
        Some(("other (waiting for other stages)", b.other_s)),
    ];
    for (name, s) in rows.into_iter().flatten() {
        let share = if r.step_time_s > 0.0 { 100.0 * s / r.step_time_s } else { 0.0 };
        let _ = writeln!(out, "  {name:<52} {s:>8.3} {share:>6.1} %");
    }
    let _ = writeln!(out, "  {:<52} {:>8.3} {:>6.1} %", "total", r.step_time_s, 100.0);
}

fn memory(out: &mut String, r: &SimReport) {
    let _ = writeln!(
        out,
        "\nMemory per GPU by stage (GB)  layers  weights  grads  optim  activ  buffers  reserve   total"
    );
    for s in &r.memory.stages {
        let g = |b: u64| b as f64 / GB;
        let _ = writeln!(
            out,
            "  stage {:<22} {:>6} {:>8.1} {:>6.1} {:>6.1} {:>6.1} {:>8.1} {:>8.1} {:>7.1}",
            s.stage,
            s.layers,
            g(s.weights_bytes),
            g(s.gradients_bytes),
            g(s.optimizer_bytes),
            g(s.activations_bytes),
            g(s.comm_buffers_bytes),
            g(s.reserve_bytes),
            g(s.total_bytes)
        );
        if s.gathered_bytes > 0 {
            let gathered = g(s.gathered_bytes);
            let _ =
                writeln!(out, "    (total includes {gathered:.1} GB of ZeRO-3 gathered layers)");
        }
    }
}

fn traffic(out: &mut String, r: &SimReport) {
    let _ = writeln!(
        out,
        "\nTraffic sent per GPU per step (GB), stage {}       TP        PP        DP     total",
        r.breakdown_stage
    );
    for t in &r.traffic {
        let g = |b: u64| b as f64 / GB;
        let _ = writeln!(
            out,
            "  {:<40} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            t.dimension,
            g(t.tp_bytes),
            g(t.pp_bytes),
            g(t.dp_bytes),
            g(t.total_bytes)
        );
        if t.cp_bytes > 0 {
            let _ = writeln!(out, "    (total includes {:.2} GB of CP exchanges)", g(t.cp_bytes));
        }
        if t.ep_bytes > 0 {
            let _ = writeln!(out, "    (total includes {:.2} GB of EP all-to-alls)", g(t.ep_bytes));
        }
    }
}

fn fabric_links(out: &mut String, l: &crate::flow_pricing::LinkReport) {
    let _ = writeln!(
        out,
        "\nFabric {} (congestion-aware model): {} GPUs, {} switches, {} directed links",
        l.fabric, l.gpus, l.switches, l.links
    );
    let _ = writeln!(
        out,
        "  {:<40} {:>7} {:>13} {:>12}",
        "link class", "links", "GB per step", "utilization"
    );
    for c in &l.classes {
        let _ = writeln!(
            out,
            "  {:<40} {:>7} {:>13.1} {:>10.1} %",
            c.class.label(),
            c.links,
            c.bytes as f64 / GB,
            c.utilization * 100.0
        );
    }
    let _ = writeln!(
        out,
        "  {:<48} {:>13} {:>12}",
        "hottest links (outside NVLink)", "GB per step", "utilization"
    );
    for h in &l.hottest {
        let _ = writeln!(
            out,
            "  {:<48} {:>13.1} {:>10.1} %",
            h.name,
            h.bytes as f64 / GB,
            h.utilization * 100.0
        );
    }
}

fn offload(out: &mut String, o: &crate::offload_step::OffloadReport, r: &SimReport) {
    let moved = r.memory_traffic_bytes.get(&o.tier).copied().unwrap_or(0);
    let p = &o.plan;
    let parts: Vec<&str> = [
        (p.parameters, "parameters"),
        (p.gradients, "gradients"),
        (p.master_weights, "master weights"),
        (p.optimizer_state, "optimizer state"),
        (p.activations, "activations"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| *name)
    .collect();
    let step = if p.optimizer_on_cpu { "the CPU" } else { "the GPU" };
    let _ =
        writeln!(out, "\nOffload to {}: {}; optimizer step on {step}", o.tier, parts.join(", "));
    let _ = writeln!(
        out,
        "  tier use per GPU        {:.1} GB of {:.1} GB",
        o.tier_used_per_gpu_bytes as f64 / GB,
        o.tier_capacity_per_gpu_bytes as f64 / GB
    );
    let _ = writeln!(
        out,
        "  traffic per GPU         {:.1} GB per step at {:.1} GB/s per GPU (all GPUs on the tier busy)",
        moved as f64 / GB,
        o.bandwidth_per_gpu_bytes_per_s / GB
    );
}

fn cost(out: &mut String, c: &crate::cost_step::CostReport) {
    let (rate, run) = (&c.rate, &c.run);
    let _ = writeln!(
        out,
        "\nCost ({})  {:.3} USD per GPU-hour: {}",
        rate.pricing.name(),
        rate.usd_per_gpu_hour,
        rate.source
    );
    if let Some(p) = &rate.on_premise {
        let _ = writeln!(
            out,
            "  rate parts             capital {:.3} (network {:.3}) + power {:.3} + facility {:.3} \
             USD per GPU-hour; {}-year write-off, {:.0} Gb/s scale-out per GPU",
            p.capital_usd_per_gpu_hour,
            p.network_capital_usd_per_gpu_hour,
            p.power_usd_per_gpu_hour,
            p.facility_usd_per_gpu_hour,
            p.amortization_years,
            p.scale_out_gbps
        );
    }
    let _ = writeln!(
        out,
        "  per step               {:.2} USD, {:.2} kWh at the facility ({:.0} W per GPU × PUE {:.2})",
        run.usd_per_step, run.energy_kwh_per_step, rate.it_power_w_per_gpu, rate.pue
    );
    let per_parameter = match c.run_tokens_per_parameter {
        Some(n) => format!(" ({n} per parameter)"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "  run                    {:.1} billion tokens{per_parameter} in {} steps: {:.1} days, \
         {:.3} million GPU-hours, {:.2} million USD, {:.1} MWh",
        run.run_tokens as f64 / 1e9,
        run.steps,
        run.wall_clock_days,
        run.gpu_hours / 1e6,
        run.usd / 1e6,
        run.energy_mwh
    );
}
