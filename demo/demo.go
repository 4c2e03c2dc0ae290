// Package demo builds the district of the source report — 滨城区's third
// round of weak-village rectification (薄弱村集中整顿攻坚) — through the domain
// services, so every rule holds and nothing is written around them. Run
// with a fixed clock and seeded ids (domain.SeededIDs), it makes the same
// ids and numbers every time.
//
// What it builds: the 10 towns and 602 villages with their positions, the
// round's 602 evaluations ranked to 90 candidates and 45 selections (25
// district, 20 town level, the villages the report names among the
// district ones), the 79 problems of the 25 district-level villages over
// the 8 aspects, the 364 target items over the 6 domains and 11 tasks, the
// 34 dispatching units, the 45 teams of 131 people (teams.go), and four
// months of field work (field.go): the records and photos cadres file,
// with the report's exact counts for March–June 2026, their reviews,
// March's approval, field checks, targets' progress, problems solved and
// the half-year's assessment with its lights; and the accounts of the
// department, the town admins, the three administrators and every team
// member.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"zhucun/domain"
)

// Services are the domain services the demo drives.
type Services struct {
	Org         domain.OrgService
	Users       domain.UserService
	Campaigns   domain.CampaignService
	Ledger      domain.LedgerService
	Teams       domain.TeamService
	Field       domain.FieldService
	Photos      domain.PhotoService
	Reviews     domain.ReviewService
	Approvals   domain.ApprovalService
	Assessments domain.AssessmentService
	FieldChecks domain.FieldCheckService
}

// Account is an account the demo made, with its password (shown once).
type Account struct {
	Role     domain.Role
	Name     string
	Phone    string
	Password string
}

// District is what the demo built.
type District struct {
	Towns      []domain.Town
	Villages   []domain.Village // town by town
	Campaign   domain.Campaign
	Selections []domain.Selection // the 25 district-level, then the 20 town-level
	Problems   int
	Targets    int
	Units      []domain.Unit
	Teams      []domain.Team
	Records    int // field records filed
	Photos     int
	Accounts   []Account

	townAdmins map[string]string // town → its admin's account
	problems   []domain.Problem
	targets    []domain.Target
	projectIDs map[string]*filed // village name → its first project
}

// The report's numbers.
const (
	NumVillages   = 602
	NumCandidates = 90
	NumDistrict   = 25
	NumTown       = 20
	NumProblems   = 79
	NumTargets    = 364
	NumUnits      = 34
)

// towns are the district's ten towns and streets (乡镇街道).
var towns = []string{"市东街道", "市西街道", "彭李街道", "梁才街道", "滨北街道", "杜店街道", "沙河街道", "里则街道", "三河湖镇", "杨柳雪镇"}

// named are the villages the report names, each in its town; all are
// district-level villages of the round.
var named = []struct {
	name, town, kind string
}{
	{"西王居委会", "市东街道", "community"},
	{"王家居委会", "彭李街道", "community"},
	{"肖家村", "三河湖镇", "village"},
	{"郭集居委会", "杜店街道", "community"},
	{"于家胡同村", "杨柳雪镇", "village"},
	{"东玉村", "梁才街道", "village"},
	{"东小高村", "梁才街道", "village"},
	{"张八棍村", "市西街道", "village"},
	{"张蒋村", "市西街道", "village"},
	{"双眼井村", "滨北街道", "village"},
	{"大王村", "三河湖镇", "village"},
	{"大营刘村", "三河湖镇", "village"},
	{"侯家园子村", "三河湖镇", "village"},
	{"杨沟朱村", "梁才街道", "village"},
}

var surnames = []rune("李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")

var suffixes = []string{"家村", "庄", "家庄", "集", "家屯", "家寨", "官村", "家坊", "家洼", "家营"}

// villageName is the i-th generated village name of a town: a surname and
// a suffix, never one of the named villages.
func villageName(i int) string {
	return string(surnames[i%len(surnames)]) + suffixes[(i/len(surnames))%len(suffixes)]
}

// Options say who the department's first admin is and how passwords are made.
type Options struct {
	// AdminPhone and AdminPassword, when set, are the department's first
	// admin (as serve makes it from ZHUCUN_ADMIN_PHONE and _PASSWORD); it
	// keeps its password. Otherwise the demo makes one.
	AdminPhone, AdminPassword string
	// Password makes each other account's password, shown once; the
	// account changes it at its first sign-in.
	Password func() string
	// Clock is the clock the services run on; the demo moves it through
	// the four months of work.
	Clock *Clock
	// IDs makes the ids of the records the phones would make, from the
	// same source as the services' ids.
	IDs domain.IDs
}

// addFunc makes an account and keeps its password for the listing.
type addFunc func(role domain.Role, name, phone string, in domain.UserInput) (domain.User, error)

// Build makes the district.
func Build(ctx context.Context, s Services, o Options) (District, error) {
	d := District{townAdmins: map[string]string{}}
	sys := domain.System("demo")
	var add addFunc = func(role domain.Role, name, phone string, in domain.UserInput) (domain.User, error) {
		in.Name, in.Phone, in.Role = name, phone, role
		in.Password = o.Password()
		u, err := s.Users.Create(ctx, sys, in)
		if err != nil {
			return domain.User{}, fmt.Errorf("demo: account %s: %w", name, err)
		}
		d.Accounts = append(d.Accounts, Account{Role: role, Name: name, Phone: phone, Password: in.Password})
		return u, nil
	}
	var admin domain.User
	if o.AdminPhone != "" {
		if _, err := s.Users.EnsureAdmin(ctx, o.AdminPhone, o.AdminPassword); err != nil {
			return d, fmt.Errorf("demo: the first admin: %w", err)
		}
		u, err := s.Users.Store.UserByPhone(ctx, o.AdminPhone)
		if err != nil {
			return d, fmt.Errorf("demo: the first admin: %w", err)
		}
		admin = u
		d.Accounts = append(d.Accounts, Account{Role: domain.RoleAdmin, Name: u.Name, Phone: u.Phone, Password: "(ZHUCUN_ADMIN_PASSWORD)"})
	} else {
		u, err := add(domain.RoleAdmin, "组织部王丽", "13905430001", domain.UserInput{})
		if err != nil {
			return d, err
		}
		admin = u
	}
	for i, a := range []struct {
		role domain.Role
		name string
	}{{domain.RoleSysAdmin, "系统管理员"}, {domain.RoleSecAdmin, "安全管理员"}, {domain.RoleAuditAdmin, "审计管理员"}, {domain.RoleLeader, "区委副书记"}} {
		if _, err := add(a.role, a.name, fmt.Sprintf("139054300%02d", 2+i), domain.UserInput{}); err != nil {
			return d, err
		}
	}
	asAdmin := domain.Caller{UserID: admin.ID, Name: admin.Name, Role: domain.RoleAdmin, RequestID: "demo"}

	if err := buildOrg(ctx, s, sys, &d); err != nil {
		return d, err
	}
	for i, t := range d.Towns {
		u, err := add(domain.RoleTownAdmin, t.Name+"组织委员", fmt.Sprintf("139054310%02d", i), domain.UserInput{TownID: t.ID})
		if err != nil {
			return d, err
		}
		d.townAdmins[t.ID] = u.ID
	}
	if err := buildRound(ctx, s, asAdmin, &d); err != nil {
		return d, err
	}
	if err := buildLedgers(ctx, s, asAdmin, &d); err != nil {
		return d, err
	}
	if err := buildUnits(ctx, s, asAdmin, &d); err != nil {
		return d, err
	}
	crews, err := buildTeams(ctx, s, asAdmin, &d, add)
	if err != nil {
		return d, err
	}
	if err := buildField(ctx, s, o, &d, crews, asAdmin); err != nil {
		return d, err
	}
	return d, nil
}

// buildOrg makes the towns and their villages: the named ones first in
// their towns, then generated names, 61 in the first two towns and 60 in
// the others; each at a position in its town's part of the district.
func buildOrg(ctx context.Context, s Services, sys domain.Caller, d *District) error {
	rng := rand.New(rand.NewPCG(2026, 3))
	for ti, name := range towns {
		t, err := s.Org.CreateTown(ctx, sys, domain.TownInput{Name: name, Code: fmt.Sprintf("3716%02d", ti+2)})
		if err != nil {
			return fmt.Errorf("demo: town %s: %w", name, err)
		}
		d.Towns = append(d.Towns, t)
		n := 60
		if ti < 2 {
			n = 61
		}
		var names []struct{ name, kind string }
		for _, v := range named {
			if v.town == name {
				names = append(names, struct{ name, kind string }{v.name, v.kind})
			}
		}
		for i := 0; len(names) < n; i++ {
			vn := villageName(ti*7 + i)
			if !slices.ContainsFunc(names, func(x struct{ name, kind string }) bool { return x.name == vn }) {
				names = append(names, struct{ name, kind string }{vn, "village"})
			}
		}
		// The town's part of the district: a 2 × 5 grid of cells about 8 km across.
		lat0, lng0 := 37.30+0.07*float64(ti/5), 117.85+0.06*float64(ti%5)
		for i, v := range names {
			loc := &domain.GeoPoint{Lat: round6(lat0 + 0.06*rng.Float64()), Lng: round6(lng0 + 0.05*rng.Float64())}
			vil, err := s.Org.CreateVillage(ctx, sys, domain.VillageInput{Name: v.name, TownID: t.ID, Kind: v.kind,
				Code: fmt.Sprintf("%s%03d", t.Code, i+1), Location: loc})
			if err != nil {
				return fmt.Errorf("demo: village %s: %w", v.name, err)
			}
			d.Villages = append(d.Villages, vil)
		}
	}
	if len(d.Villages) != NumVillages {
		return fmt.Errorf("demo: %d villages made, want %d", len(d.Villages), NumVillages)
	}
	return nil
}

func round6(x float64) float64 { return float64(int64(x*1e6+0.5)) / 1e6 }

// buildRound evaluates every village, ranks them (the worst 15 % are the
// candidates) and selects 45: the named villages and the worst of the rest
// at district level, the next 20 candidates at town level.
func buildRound(ctx context.Context, s Services, c domain.Caller, d *District) error {
	name, start, end := "第三轮薄弱村集中整顿攻坚", "2026-03-01", "2027-12-31"
	dt, tt := NumDistrict, NumTown
	cp, err := s.Campaigns.Create(ctx, c, domain.CampaignInput{Name: &name, StartDate: &start, EndDate: &end, DistrictTarget: &dt, TownTarget: &tt})
	if err != nil {
		return fmt.Errorf("demo: round: %w", err)
	}
	d.Campaign = cp
	rng := rand.New(rand.NewPCG(2026, 1))
	manifestations := []string{"shell_economy", "disunited_leadership", "disorderly_openness", "weak_service", "prominent_petitions",
		"secretary_unfit", "lax_organisation_life", "clan_vice_interference", "violations", "election_problems"}
	isNamed := func(v domain.Village) bool {
		return slices.ContainsFunc(named, func(n struct{ name, town, kind string }) bool { return n.name == v.Name })
	}
	for i, v := range d.Villages {
		// Scores from 55 to 98 for most; the named villages and a few
		// others score under 50 with several manifestations.
		score := 55 + float64(rng.IntN(44))
		var ms []string
		weak := isNamed(v) || i%13 == 5
		if weak {
			score = 30 + float64(rng.IntN(20))
		}
		for j, m := range manifestations {
			if weak && (j+i)%3 == 0 || !weak && rng.IntN(12) == 0 {
				ms = append(ms, m)
			}
		}
		if _, err := s.Campaigns.Evaluate(ctx, c, cp.ID, v.ID, domain.EvaluationInput{Score: &score, Manifestations: ms}); err != nil {
			return fmt.Errorf("demo: evaluate %s: %w", v.Name, err)
		}
	}
	cands, err := s.Campaigns.Candidates(ctx, c, cp.ID, "")
	if err != nil {
		return fmt.Errorf("demo: candidates: %w", err)
	}
	if len(cands.Rows) != NumCandidates {
		return fmt.Errorf("demo: %d candidates, want %d", len(cands.Rows), NumCandidates)
	}
	// District level: the named villages, then the worst other candidates.
	var district, town []string
	for _, r := range cands.Rows {
		if slices.ContainsFunc(named, func(n struct{ name, town, kind string }) bool { return n.name == r.VillageName }) {
			district = append(district, r.VillageID)
		}
	}
	if len(district) != len(named) {
		return fmt.Errorf("demo: %d of the %d named villages are candidates", len(district), len(named))
	}
	for _, r := range cands.Rows {
		switch {
		case slices.Contains(district, r.VillageID):
		case len(district) < NumDistrict:
			district = append(district, r.VillageID)
		case len(town) < NumTown:
			town = append(town, r.VillageID)
		}
	}
	for _, lv := range []struct {
		ids    []string
		level  domain.Level
		reason string
	}{{district, domain.LevelDistrict, "问题最突出，列为区级整顿对象"}, {town, domain.LevelTown, "相对薄弱，由乡镇（街道）负责整顿"}} {
		for _, id := range lv.ids {
			sel, _, err := s.Campaigns.Select(ctx, c, cp.ID, domain.SelectionInput{VillageID: id, Level: lv.level, Reason: lv.reason,
				Notes: []domain.NoteInput{{Source: "petition", Text: "信访部门意见：来信来访较多"}, {Source: "discipline", Text: "纪委意见：无重大违纪线索"}}})
			if err != nil {
				return fmt.Errorf("demo: select: %w", err)
			}
			d.Selections = append(d.Selections, sel)
		}
	}
	return nil
}

// buildLedgers gives the 25 district-level villages their 79 problems over
// the 8 aspects, and the 45 villages their 364 target items over the 11
// tasks of the 6 domains.
func buildLedgers(ctx context.Context, s Services, c domain.Caller, d *District) error {
	aspects := []string{"petitions", "disunity", "weak_organisation", "affairs_disorder", "public_order", "weak_economy", "infrastructure", "public_services"}
	descriptions := map[string]string{
		"petitions": "党员群众信访较多，历史遗留问题未解决", "disunity": "“两委”成员意见不一，议事效率低",
		"weak_organisation": "党组织活动不经常，党员作用发挥不明显", "affairs_disorder": "村务财务公开不及时、不规范",
		"public_order": "邻里、土地纠纷多发", "weak_economy": "村集体无稳定收入来源",
		"infrastructure": "进村道路破损，排水不畅", "public_services": "便民服务不到位，群众办事不便",
	}
	source := "evaluation"
	for i := range NumProblems {
		v := d.Selections[i%NumDistrict]
		a := aspects[i%len(aspects)]
		desc := descriptions[a]
		pb, err := s.Ledger.CreateProblem(ctx, c, v.VillageID, domain.ProblemInput{CampaignID: &d.Campaign.ID, Aspect: &a, Description: &desc, Source: &source})
		if err != nil {
			return fmt.Errorf("demo: problem: %w", err)
		}
		d.problems = append(d.problems, pb)
		d.Problems++
	}
	tasks := []struct{ task, domain, title string }{
		{"resolve_disputes", "social_stability", "排查化解矛盾纠纷，做到小事不出村"},
		{"handle_petitions", "social_stability", "化解信访积案和历史遗留问题"},
		{"strengthen_team", "leadership", "配强村“两委”班子，健全议事规则"},
		{"reserve_cadres", "leadership", "培养后备人选和入党积极分子"},
		{"collective_economy", "development", "盘活集体土地，增加集体收入"},
		{"industry_projects", "development", "推进特色产业项目"},
		{"livelihood_projects", "livelihood", "办好群众关心的民生实事"},
		{"living_environment", "livelihood", "改善道路、排水和人居环境"},
		{"organisation_life", "party_building", "规范“三会一课”和党员管理"},
		{"democratic_management", "governance", "落实“四议两公开”"},
		{"openness", "governance", "按期公开党务村务财务"},
	}
	year, due := 2026, "2026-12-31"
	for i := range NumTargets {
		v := d.Selections[i%len(d.Selections)]
		t := tasks[i%len(tasks)]
		kind := "common"
		if i%4 == 3 {
			kind = "differentiated"
		}
		tg, err := s.Ledger.CreateTarget(ctx, c, v.VillageID, domain.TargetInput{CampaignID: &d.Campaign.ID, Domain: &t.domain, Task: &t.task,
			Kind: &kind, Title: &t.title, Year: &year, Due: &due})
		if err != nil {
			return fmt.Errorf("demo: target: %w", err)
		}
		d.targets = append(d.targets, tg)
		d.Targets++
	}
	return nil
}

// buildUnits makes the 34 dispatching units (派出单位) of the four kinds the
// pairing rule names: party, political-legal, economic and line units.
func buildUnits(ctx context.Context, s Services, c domain.Caller, d *District) error {
	units := []struct{ typ, names string }{
		{"party", "区委办公室 区人大办公室 区政协办公室 区纪委监委 区委组织部 区委宣传部 区委统战部 区委党校 区直机关工委"},
		{"political_legal", "区委政法委 区法院 区检察院 区公安分局 区司法局 区信访局"},
		{"economic", "区发展和改革局 区财政局 区商务局 区农业农村局 区市场监管局 区税务局 区金融服务中心 区供销社 区投资促进中心"},
		{"line", "区教育和体育局 区民政局 区人社局 区住建局 区交通运输局 区水利局 区卫生健康局 区自然资源局 区生态环境分局 区应急管理局"},
	}
	for _, g := range units {
		for _, name := range splitFields(g.names) {
			typ, n := g.typ, name
			u, err := s.Teams.CreateUnit(ctx, c, domain.UnitInput{Name: &n, Type: &typ})
			if err != nil {
				return fmt.Errorf("demo: unit %s: %w", name, err)
			}
			d.Units = append(d.Units, u)
		}
	}
	if len(d.Units) != NumUnits {
		return fmt.Errorf("demo: %d units, want %d", len(d.Units), NumUnits)
	}
	return nil
}

func splitFields(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		switch {
		case r == ' ' && start >= 0:
			out = append(out, s[start:i])
			start = -1
		case r != ' ' && start < 0:
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}
