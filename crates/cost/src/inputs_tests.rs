use super::*;

fn parse(text: &str) -> Result<CostInputs, InputError> {
    let table: toml::Table = toml::from_str(text).unwrap();
    CostInputs::from_table(&table, "s.toml")
}

#[test]
fn an_empty_table_is_the_default() {
    assert_eq!(parse("").unwrap(), CostInputs::default());
    assert_eq!(CostInputs::default().pricing, Pricing::CloudOnDemand);
}

#[test]
fn reads_every_key() {
    let c = parse(
        "pricing = \"on-premise\"\ncapex_usd_per_gpu = 40000\namortization_years = 4\n\
         it_power_w_per_gpu = 1200.5\npue = 1.2\nusd_per_kwh = 0\n\
         facility_usd_per_kw_month = 150\nnetwork_usd_per_gpu_per_100gbps = 900\n\
         run_tokens = 15e12\n",
    )
    .unwrap();
    assert_eq!(c.pricing, Pricing::OnPremise);
    assert_eq!(c.capex_usd_per_gpu, Some(40_000.0));
    assert_eq!(c.amortization_years, Some(4.0));
    assert_eq!(c.it_power_w_per_gpu, Some(1_200.5));
    assert_eq!(c.pue, Some(1.2));
    assert_eq!(c.usd_per_kwh, Some(0.0));
    assert_eq!(c.facility_usd_per_kw_month, Some(150.0));
    assert_eq!(c.network_usd_per_gpu_per_100gbps, Some(900.0));
    assert_eq!(c.run_tokens, Some(15_000_000_000_000));
    let cloud = parse("pricing = \"cloud-reserved\"\nusd_per_gpu_hour = 2\npue = 1\n").unwrap();
    assert_eq!(cloud.pricing, Pricing::CloudReserved);
    assert_eq!(cloud.usd_per_gpu_hour, Some(2.0));
    assert_eq!(cloud.pue, Some(1.0));
}

#[test]
fn run_tokens_default_to_twenty_per_parameter() {
    assert_eq!(CostInputs::default().run_tokens_for(70_000_000_000), 1_400_000_000_000);
    let c = parse("run_tokens = 1000").unwrap();
    assert_eq!(c.run_tokens_for(70_000_000_000), 1_000);
}

#[test]
fn each_bad_key_names_itself_and_the_expectation() {
    let on_prem = "pricing = \"on-premise\"\n";
    let cases: Vec<(String, &str, &str)> = vec![
        ("spot = true".into(), "cost.spot", "one of the keys"),
        ("pricing = \"spot\"".into(), "cost.pricing", "\"on-premise\""),
        ("pricing = 3".into(), "cost.pricing", "\"cloud-reserved\""),
        ("usd_per_gpu_hour = -1".into(), "cost.usd_per_gpu_hour", "positive finite"),
        ("usd_per_gpu_hour = \"two\"".into(), "cost.usd_per_gpu_hour", "positive finite"),
        ("usd_per_gpu_hour = 0".into(), "cost.usd_per_gpu_hour", "got 0"),
        ("it_power_w_per_gpu = inf".into(), "cost.it_power_w_per_gpu", "got inf"),
        ("pue = 0.9".into(), "cost.pue", "at least 1"),
        ("pue = nan".into(), "cost.pue", "at least 1"),
        ("capex_usd_per_gpu = 1".into(), "cost.capex_usd_per_gpu", "\"on-premise\" only"),
        ("usd_per_kwh = 0.1".into(), "cost.usd_per_kwh", "\"on-premise\" only"),
        (format!("{on_prem}usd_per_gpu_hour = 2"), "cost.usd_per_gpu_hour", "cloud pricing"),
        (format!("{on_prem}capex_usd_per_gpu = 0"), "cost.capex_usd_per_gpu", "positive"),
        (format!("{on_prem}amortization_years = 0"), "cost.amortization_years", "positive"),
        (format!("{on_prem}usd_per_kwh = -0.1"), "cost.usd_per_kwh", "non-negative"),
        (
            format!("{on_prem}facility_usd_per_kw_month = -1"),
            "cost.facility_usd_per_kw_month",
            "non-negative",
        ),
        (
            format!("{on_prem}network_usd_per_gpu_per_100gbps = -5"),
            "cost.network_usd_per_gpu_per_100gbps",
            "non-negative",
        ),
        ("run_tokens = 0".into(), "cost.run_tokens", "from 1 to"),
        ("run_tokens = 1e19".into(), "cost.run_tokens", "from 1 to"),
        ("run_tokens = \"lots\"".into(), "cost.run_tokens", "from 1 to"),
    ];
    for (text, field, expected) in cases {
        let e = parse(&text).expect_err(&text);
        assert_eq!(e.origin, "s.toml", "{text}");
        assert_eq!(e.field, field, "{text}");
        assert!(e.expected.contains(expected), "{text}: {}", e.expected);
    }
}
