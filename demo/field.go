package demo

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"slices"
	"time"

	"zhucun/domain"
	"zhucun/media"
)

// The report's counts of the first four months (March–June 2026), on the
// reported basis, at district level.
const (
	NumLeaderResearch    = 27
	NumUnitResearch      = 43 // people (人次): "40+"
	NumCommitteeMeetings = 163
	NumPartyMembers      = 398
	NumHouseholds        = 1263
	NumConflicts         = 40
	NumResolved          = 20
	NumReserve           = 19
	NumProjectsActive    = 37 // in progress on 30 June
	NumProjects          = 40 // 3 of them completed in June
	FundsFen             = 5_236_000_00
	GuojiRecoveredFen    = 8_500_000_00 // 郭集's dispute: 850万 recovered
)

// cst is the district's time (the campaign's zone is Asia/Shanghai).
var cst = time.FixedZone("CST", 8*3600)

func at(month, day, hour, minute int) time.Time {
	return time.Date(2026, time.Month(month), day, hour, minute, 0, 0, cst)
}

// step is one piece of the story, done with the clock at its time.
type step struct {
	at  time.Time
	seq int
	do  func(ctx context.Context) error
}

// filed is a record a cadre filed, for the reviews that follow.
type filed struct {
	id     string
	typ    domain.RecordType
	crew   *crew
	review time.Time // when its town admin reviews it
	leave  bool      // left in the review queue
	ret    string    // returned with this comment
}

// story schedules the four months of work and then does it in time order.
type story struct {
	s      Services
	o      Options
	d      *District
	crews  []*crew
	admin  domain.Caller
	towns  map[string]domain.Caller // town admins by town
	rng    *rand.Rand
	steps  []step
	filed  []*filed
	photos int
}

func (st *story) later(t time.Time, do func(ctx context.Context) error) {
	st.steps = append(st.steps, step{at: t, seq: len(st.steps), do: do})
}

// when is a working moment of a month: a day from the 2nd to the 27th,
// between 9:00 and 17:00.
func (st *story) when(month int) time.Time {
	return at(month, 2+st.rng.IntN(26), 9+st.rng.IntN(8), st.rng.IntN(60))
}

// near is a phone position within a few hundred metres of the village.
func near(v domain.Village, k int) *domain.Location {
	if v.Location == nil {
		return nil
	}
	return &domain.Location{Lat: round6(v.Location.Lat + 0.0007*float64(k%5-2)), Lng: round6(v.Location.Lng + 0.0009*float64(k%3-1)), Accuracy: 15}
}

// file schedules a record, filed by a team member an hour after the event
// and reviewed by the town admin about two days later.
// prep, when given, finishes the record just before it is filed (with the
// ids of what was filed before it).
func (st *story) file(ev time.Time, cr *crew, by *member, r domain.Record, prep ...func()) *filed {
	f := &filed{typ: r.Type, crew: cr, review: ev.Add(40 * time.Hour)}
	st.filed = append(st.filed, f)
	r.VillageID = cr.sel.VillageID
	st.later(ev.Add(time.Hour), func(ctx context.Context) error {
		for _, p := range prep {
			p()
		}
		r.ID = st.o.IDs.New(ev)
		f.id = r.ID
		if _, _, err := st.s.Field.Create(ctx, by.caller, r); err != nil {
			return fmt.Errorf("demo: %s in %s: %w", r.Type, cr.village.Name, err)
		}
		return nil
	})
	return f
}

func (st *story) report(ev time.Time, cr *crew, by *member, p domain.Report) *filed {
	p.OccurredAt = ev
	p.Location = near(cr.village, len(st.steps))
	return st.file(ev, cr, by, domain.Record{Type: domain.TypeReport, Report: &p})
}

// photo schedules a photo taken at ev in the village (EXIF time and GPS)
// and uploaded a few minutes later; ids receives its id.
func (st *story) photo(ev time.Time, cr *crew, by *member, ids *[]string) {
	n := st.photos
	st.photos++
	st.later(ev.Add(5*time.Minute), func(ctx context.Context) error {
		id := st.o.IDs.New(ev)
		body := demoJPEG(n, ev, cr.village)
		if _, _, err := st.s.Photos.Upload(ctx, by.caller, cr.sel.VillageID, id, bytes.NewReader(body)); err != nil {
			return fmt.Errorf("demo: photo in %s: %w", cr.village.Name, err)
		}
		*ids = append(*ids, id)
		return nil
	})
}

// demoJPEG is a small picture of fields and sky with EXIF: taken at t, at
// the village.
func demoJPEG(n int, t time.Time, v domain.Village) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	sky := color.RGBA{uint8(150 + n*7%60), uint8(190 + n*3%40), 235, 255}
	field := color.RGBA{uint8(60 + n*11%80), uint8(130 + n*5%70), 50, 255}
	for y := range 64 {
		for x := range 96 {
			c := sky
			if y > 30+(x*n%7)/3 {
				c = field
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}) // an in-memory image always encodes
	e := media.EXIF{TakenAt: &t}
	if v.Location != nil {
		e.Lat, e.Lng, e.HasGPS = v.Location.Lat+0.0004, v.Location.Lng-0.0003, true
	}
	return media.WithEXIF(b.Bytes(), e)
}

// split divides total into n parts of at least 1.
func split(rng *rand.Rand, total, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	for k := total - n; k > 0; k-- {
		out[rng.IntN(n)]++
	}
	return out
}

func (st *story) crewOf(name string) *crew {
	for _, cr := range st.crews {
		if cr.village.Name == name {
			return cr
		}
	}
	panic("demo: no team for " + name) // the named villages are all selected
}

// buildField files the four months of field records, reviews them, has
// March approved, checks villages in the field, records the targets'
// progress and the problems solved, and assesses the half-year.
func buildField(ctx context.Context, s Services, o Options, d *District, crews []*crew, admin domain.Caller) error {
	st := &story{s: s, o: o, d: d, crews: crews, admin: admin, towns: map[string]domain.Caller{}, rng: rand.New(rand.NewPCG(2026, 4))}
	for _, t := range d.Towns {
		c, err := s.Users.Caller(ctx, d.townAdmins[t.ID], "demo")
		if err != nil {
			return fmt.Errorf("demo: town admin: %w", err)
		}
		st.towns[t.ID] = c
	}
	st.reports()
	st.disputes()
	st.projects()
	st.funds()
	st.reviews()
	st.approvals()
	st.ledgerWork()
	st.assessments()
	slices.SortStableFunc(st.steps, func(a, b step) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for _, sp := range st.steps {
		o.Clock.Set(sp.at)
		if err := sp.do(ctx); err != nil {
			return err
		}
	}
	d.Records = len(st.filed)
	d.Photos = st.photos
	return nil
}

// reports: leader and unit research, meetings, visits and reserve candidates.
func (st *story) reports() {
	district := st.crews[:NumDistrict]
	// 27 leader research visits: each responsible leader once, and the
	// second leaders of the first two villages.
	for j, cr := range district {
		st.report(st.when(3+j%3), cr, cr.leaders[0], domain.Report{Kind: domain.KindLeaderResearch,
			Findings: "实地察看村容村貌，与“两委”班子座谈，梳理问题清单，明确整顿重点"})
	}
	for _, cr := range district[:NumLeaderResearch-NumDistrict] {
		st.report(st.when(5), cr, cr.leaders[1], domain.Report{Kind: domain.KindLeaderResearch, Findings: "回访整顿进展，督促项目建设"})
	}
	// Unit research: 43 people over 18 visits of the cadres' units.
	for j, n := range split(st.rng, NumUnitResearch, 18) {
		cr := district[j]
		by := cr.cadres[0]
		st.report(st.when(3+j%4), cr, by, domain.Report{Kind: domain.KindUnitResearch, UnitID: by.unit.ID, People: n,
			Notes: by.unit.Name + "到村调研，对接帮扶需求"})
	}
	// 163 two-committee meetings: every village monthly, the first 28 in all four months.
	for j, cr := range st.crews {
		n := 3
		if j < NumCommitteeMeetings-3*NumTeams {
			n = 4
		}
		for m := range n {
			by := cr.filers()[m%len(cr.filers())]
			st.report(st.when(3+m), cr, by, domain.Report{Kind: domain.KindMeeting, MeetingType: "two_committees", Attendees: 7 + j%4,
				Topics: []string{"研究整顿方案", "梳理问题清单"}, Decisions: []string{"明确分工，按月推进"}})
		}
	}
	// A party members' meeting in each district-level village in April.
	for _, cr := range district {
		st.report(st.when(4), cr, cr.filers()[0], domain.Report{Kind: domain.KindMeeting, MeetingType: "party_members", Attendees: 30,
			Topics: []string{"通报整顿进展", "征求党员意见"}})
	}
	// 398 party members over 90 visits, 1,263 households over 180.
	for i, n := range split(st.rng, NumPartyMembers, 2*NumTeams) {
		cr := st.crews[i%NumTeams]
		by := cr.filers()[i%len(cr.filers())]
		st.report(st.when(3+2*(i/NumTeams)), cr, by, domain.Report{Kind: domain.KindVisit, Visitee: "party_member", Count: n,
			Concerns: "对村“两委”班子建设提出意见建议"})
	}
	for i, n := range split(st.rng, NumHouseholds, 4*NumTeams) {
		cr := st.crews[i%NumTeams]
		by := cr.filers()[i%len(cr.filers())]
		st.report(st.when(3+i/NumTeams), cr, by, domain.Report{Kind: domain.KindVisit, Visitee: "household", Count: n,
			Concerns: "反映道路、排水和增收问题", FollowUp: i%5 == 0})
	}
	// 19 reserve candidates.
	educations := []string{"高中", "大专", "本科", "中专"}
	for j := range NumReserve {
		cr := st.crews[j]
		st.report(st.when(4+j%2), cr, cr.filers()[0], domain.Report{Kind: domain.KindReserveCandidate, Candidate: &domain.Candidate{
			Name: personName(500 + j), BirthYear: 1988 + j%9, Gender: []string{"male", "female"}[j%2], Education: educations[j%4], Stage: "training"}})
	}
}

// disputes: 40 identified, 20 resolved (郭集's with 850万 recovered), the
// rest mediating, newly identified or escalated.
func (st *story) disputes() {
	guoji := st.crewOf("郭集居委会")
	gi := slices.Index(st.crews, guoji)
	categories := []string{"land", "neighbour", "family", "economic", "petition"}
	open := 0
	for i := range NumConflicts {
		cr := st.crews[i]
		by := cr.filers()[0]
		resolved := i%2 == gi%2
		p := domain.Dispute{Category: categories[i%len(categories)], Parties: []string{personName(600 + 2*i), personName(601 + 2*i)},
			Description: "群众反映的土地承包和宅基地边界争议", Source: "走访排查"}
		if cr == guoji {
			p.Category, p.Description, p.Source = "economic", "村集体资产被长期侵占，集体收入流失", "群众来访"
			p.Parties = []string{"郭集居委会", personName(700)}
		}
		if !resolved {
			p.IdentifiedAt = st.when(3 + open%3)
			switch {
			case open < 2:
				p.Status, p.EscalatedTo = domain.DisputeEscalated, "区信访局"
				t := p.IdentifiedAt.Add(30 * time.Minute) // reported the same day
				p.EscalatedAt = &t
			case open < 6:
				p.Status = domain.DisputeIdentified
			default:
				p.Status = domain.DisputeMediating
			}
			open++
			st.file(p.IdentifiedAt, cr, by, domain.Record{Type: domain.TypeDispute, Dispute: &p})
			continue
		}
		// Identified in April, mediated a week later, resolved in May or June.
		p.IdentifiedAt = at(4, 2+i%20, 10, i)
		p.Status = domain.DisputeIdentified
		f := st.file(p.IdentifiedAt, cr, by, domain.Record{Type: domain.TypeDispute, Dispute: &p})
		mediate := p.IdentifiedAt.Add(7 * 24 * time.Hour)
		done := at(5+i%2, 5+i%20, 15, i)
		recovered := int64(0)
		resolution := "经调解双方达成一致，签订调解协议"
		if cr == guoji {
			done = at(6, 12, 16, 0)
			recovered = GuojiRecoveredFen
			resolution = "依法清理收回被侵占的集体资产，挽回经济损失850万元"
		}
		f.review = done.Add(40 * time.Hour)
		st.later(mediate, func(ctx context.Context) error {
			return st.updateDispute(ctx, f, by, func(d *domain.Dispute) { d.Status = domain.DisputeMediating })
		})
		st.later(done, func(ctx context.Context) error {
			return st.updateDispute(ctx, f, by, func(d *domain.Dispute) {
				d.Status, d.ResolvedAt, d.Resolution, d.LossesRecoveredFen = domain.DisputeResolved, &done, resolution, recovered
			})
		})
	}
}

func (st *story) updateDispute(ctx context.Context, f *filed, by *member, change func(*domain.Dispute)) error {
	_, _, err := st.s.Field.Update(ctx, by.caller, domain.TypeDispute, f.id, 0, "", func(r domain.Record) (domain.Record, error) {
		p := *r.Dispute
		change(&p)
		r.Dispute = &p
		return r, nil
	})
	if err != nil {
		return fmt.Errorf("demo: dispute in %s: %w", f.crew.village.Name, err)
	}
	return nil
}

// project is one of the report's projects.
type project struct {
	village, name, typ string
	budgetYuan         int64
	completed          bool
}

var namedProjects = []project{
	{"东小高村", "村内主干道硬化工程", "road", 1_000_000, false},
	{"侯家园子村", "牛粪有机肥加工项目（与中国科学院合作）", "breeding", 1_200_000, false},
	{"杨沟朱村", "“杨沟朱”粽子电商品牌", "ecommerce", 300_000, false},
	{"郭集居委会", "雨污分流改造", "water_sewage", 800_000, false},
	{"西王居委会", "党员志愿帮扶队", "other", 20_000, false},
	{"王家居委会", "冬暖式蔬菜大棚", "greenhouse", 600_000, false},
	{"肖家村", "葡萄种植基地", "planting", 450_000, false},
	{"大王村", "食用菌种植大棚", "greenhouse", 500_000, false},
	{"张八棍村", "村委会办公场所修缮", "building_repair", 150_000, true},
	{"张蒋村", "公交候车亭修缮", "building_repair", 60_000, true},
	{"双眼井村", "高效节水灌溉", "planting", 350_000, false},
	{"大营刘村", "村内排水沟渠清淤", "water_sewage", 200_000, false},
	{"东玉村", "设施农业大棚", "greenhouse", 550_000, false},
	{"于家胡同村", "村内街巷亮化", "road", 180_000, true},
}

// projects: the report's, and the others' in the remaining villages.
func (st *story) projects() {
	kinds := []project{{"", "设施蔬菜大棚", "greenhouse", 400_000, false}, {"", "村内道路修复", "road", 300_000, false},
		{"", "特色种植基地", "planting", 250_000, false}, {"", "村级活动场所修缮", "building_repair", 120_000, false}}
	var all []project
	var crews []*crew
	for _, p := range namedProjects {
		all, crews = append(all, p), append(crews, st.crewOf(p.village))
	}
	for _, cr := range st.crews {
		if len(all) == NumProjects {
			break
		}
		if !slices.Contains(crews, cr) {
			p := kinds[len(all)%len(kinds)]
			all, crews = append(all, p), append(crews, cr)
		}
	}
	st.d.projectIDs = map[string]*filed{}
	for i, p := range all {
		cr := crews[i]
		by := cr.filers()[0]
		start := at(3+i%3, 3+i%24, 10, 0)
		if p.completed {
			start = at(4, 6+i%10, 10, 0)
		}
		pr := &domain.Project{Name: p.name, ProjectType: p.typ, BudgetFen: p.budgetYuan * 100, Stage: domain.StageInProgress,
			StartedOn: start.Format(domain.DateLayout), Description: "列入村级整顿年度目标，由工作组推进"}
		st.photo(start.Add(-30*time.Minute), cr, by, &pr.PhotoIDs)
		f := st.file(start, cr, by, domain.Record{Type: domain.TypeProject, Project: pr})
		st.d.projectIDs[cr.village.Name] = f
		// A progress note with a photo a month on; the completed ones finish in June.
		upd := start.Add(30 * 24 * time.Hour)
		note := &domain.ProjectUpdate{Note: "完成主体工程过半，资金按进度拨付"}
		if p.completed {
			upd, note = at(6, 10+i%10, 11, 0), &domain.ProjectUpdate{Note: "工程完工并通过验收", Stage: domain.StageCompleted}
		}
		note.Date = upd.Format(domain.DateLayout)
		st.photo(upd.Add(-20*time.Minute), cr, by, &note.PhotoIDs)
		uf := &filed{typ: domain.TypeProjectUpdate, crew: cr, review: upd.Add(40 * time.Hour)}
		st.filed = append(st.filed, uf)
		st.later(upd.Add(time.Hour), func(ctx context.Context) error {
			uf.id = st.o.IDs.New(upd)
			_, _, err := st.s.Field.AddProjectUpdate(ctx, by.caller, f.id, domain.Record{ID: uf.id, ProjectUpdate: note})
			if err != nil {
				return fmt.Errorf("demo: project update in %s: %w", cr.village.Name, err)
			}
			return nil
		})
	}
}

// funds: 523.6万 yuan of aid, the road's 100万 among them.
func (st *story) funds() {
	unit := func(name string) domain.Unit {
		for _, u := range st.d.Units {
			if u.Name == name {
				return u
			}
		}
		panic("demo: no unit " + name) // the units are the demo's own
	}
	type fund struct {
		village, unit, purpose, project string
		yuan                            int64
	}
	named := []fund{
		{"东小高村", "区交通运输局", "村内主干道硬化", "东小高村", 1_000_000},
		{"侯家园子村", "区农业农村局", "有机肥加工设备购置", "侯家园子村", 600_000},
		{"杨沟朱村", "区商务局", "粽子电商品牌包装和推广", "杨沟朱村", 300_000},
	}
	rest := FundsFen/100 - 1_900_000
	for i, k := range split(st.rng, int(rest/1000), 30) {
		cr := st.crews[i%NumDistrict]
		u := cr.cadres[0].unit
		named = append(named, fund{cr.village.Name, u.Name, "帮扶村集体增收和民生实事", "", int64(k) * 1000})
	}
	for i, f := range named {
		cr := st.crewOf(f.village)
		by := cr.filers()[0]
		ev := at(4+i%3, 8+i%18, 14, 0)
		p := domain.Fund{AmountFen: f.yuan * 100, SourceUnitID: unit(f.unit).ID, Purpose: f.purpose, ReceivedOn: ev.Format(domain.DateLayout)}
		r := domain.Record{Type: domain.TypeFund, Fund: &p}
		if f.project != "" {
			// The fund names its project, filed weeks before.
			pf := st.d.projectIDs[f.project]
			st.file(ev, cr, by, r, func() { p.ProjectID = pf.id })
			continue
		}
		st.file(ev, cr, by, r)
	}
}

// reviews: the town admins approve what was filed, return three June
// records with a reason and leave a third of June's in the queue.
func (st *story) reviews() {
	june, returned := 0, 0
	reasons := []string{"照片未显示施工现场，请补充现场照片", "走访户数与台账不一致，请核实", "会议决定事项不具体，请补充"}
	for _, f := range st.filed {
		if f.review.After(at(6, 3, 23, 59)) {
			june++
			switch {
			case june%3 == 0 && returned < len(reasons):
				f.ret = reasons[returned]
				returned++
			case june%3 == 1:
				f.leave = true
				continue
			}
		}
		st.later(f.review, func(ctx context.Context) error {
			item := domain.ReviewItem{ID: f.id, Decision: domain.DecisionApprove}
			if f.ret != "" {
				item.Decision, item.Comment = domain.DecisionReturn, f.ret
			}
			res, err := st.s.Reviews.Review(ctx, st.towns[f.crew.sel.TownID], []domain.ReviewItem{item})
			if err == nil {
				err = res[0].Err
			}
			if err != nil {
				return fmt.Errorf("demo: review in %s: %w", f.crew.village.Name, err)
			}
			return nil
		})
	}
}

// approvals: each team leader submits March, its town admin approves it.
func (st *story) approvals() {
	for _, cr := range st.crews {
		st.later(at(4, 2, 16, 0), func(ctx context.Context) error {
			_, _, err := st.s.Approvals.Act(ctx, cr.leaders[0].caller, domain.ApprovalVillage, cr.sel.VillageID, "202603", domain.ActSubmit, "三月台账已核对", 0)
			return err
		})
		st.later(at(4, 3, 10, 0), func(ctx context.Context) error {
			_, _, err := st.s.Approvals.Act(ctx, st.towns[cr.sel.TownID], domain.ApprovalVillage, cr.sel.VillageID, "202603", domain.ActApprove, "", 0)
			return err
		})
	}
}

// ledgerWork: the department's field checks in the second quarter, a
// third of the problems solved, and every target's progress in June.
func (st *story) ledgerWork() {
	ratings := []string{"good", "fair", "good", "poor"}
	for j, cr := range st.crews[:12] {
		day := at(5+j%2, 10+j, 9, 30)
		st.later(day.Add(6*time.Hour), func(ctx context.Context) error {
			fc := domain.FieldCheck{ID: st.o.IDs.New(day), VillageID: cr.sel.VillageID, Date: day.Format(domain.DateLayout),
				Checkers: []string{"区委组织部督导组"}, Findings: "不打招呼、直奔现场，查阅台账，走访群众", Rating: ratings[j%4],
				Issues: []string{"部分会议记录不完整"}}
			_, _, err := st.s.FieldChecks.Create(ctx, st.admin, fc)
			return err
		})
	}
	for i, pb := range st.d.problems {
		if i%3 != 0 {
			continue
		}
		cr := st.crewOfVillage(pb.VillageID)
		day := at(5+i%2, 12+i%15, 11, 0)
		st.later(day, func(ctx context.Context) error {
			status, resolution, on := domain.StatusResolved, "问题已整改到位，群众认可", day.Format(domain.DateLayout)
			_, err := st.s.Ledger.UpdateProblem(ctx, cr.filers()[0].caller, pb.ID, 0, domain.ProblemInput{Status: &status, Resolution: &resolution, ResolvedAt: &on})
			return err
		})
	}
	percents := []int{100, 80, 60, 40, 100, 50, 30, 70}
	for i, t := range st.d.targets {
		cr := st.crewOfVillage(t.VillageID)
		day := at(6, 26, 9, 0)
		st.later(day, func(ctx context.Context) error {
			pct := percents[i%len(percents)]
			_, _, err := st.s.Ledger.AddProgress(ctx, cr.filers()[0].caller, t.ID, domain.ProgressInput{Date: day.Format(domain.DateLayout), Percent: &pct, Note: "按计划推进"})
			return err
		})
	}
}

func (st *story) crewOfVillage(id string) *crew {
	for _, cr := range st.crews {
		if cr.sel.VillageID == id {
			return cr
		}
	}
	panic("demo: no team for a ledger village") // problems and targets are the selected villages'
}

// assessments: the half-year's scores and lights, given by the
// department in July: a fifth red, two fifths yellow, the rest green.
func (st *story) assessments() {
	for j, cr := range st.crews {
		light := []string{domain.LightRed, domain.LightYellow, domain.LightYellow, domain.LightGreen, domain.LightGreen}[j%5]
		if cr.village.Name == "郭集居委会" || cr.village.Name == "东小高村" || cr.village.Name == "侯家园子村" || cr.village.Name == "杨沟朱村" {
			light = domain.LightGreen
		}
		common, targets, bonus, penalty := 9.0, 16.0, 2.0, 0.0
		notes := map[string]string{}
		switch light {
		case domain.LightYellow:
			common, targets, bonus = 8, 12, 0
			notes["collective_economy"] = "集体经济增收项目进度偏慢"
		case domain.LightRed:
			common, targets, bonus, penalty = 7, 8, 0, 2
			notes["dispute_resolution"] = "矛盾纠纷化解不及时，信访仍较多"
			notes["discipline"] = "发生一起越级上访"
		}
		in := domain.AssessmentInput{Assessors: []string{"区委组织部考核组"}, AssessedOn: "2026-07-06"}
		for _, it := range domain.DefaultCatalogues {
			if it.Kind != domain.CatIndicators {
				continue
			}
			sc := domain.IndicatorScore{Indicator: it.Code, Note: notes[it.Code]}
			switch it.Group {
			case domain.IndicatorCommon:
				sc.Score = common
				if notes[it.Code] != "" {
					sc.Score = common - 2
				}
			case domain.IndicatorDifferentiated:
				sc.Score = targets
			case domain.IndicatorBonus:
				sc.Score = bonus
			case domain.IndicatorPenalty:
				sc.Score = penalty
			}
			in.Scores = append(in.Scores, sc)
		}
		st.later(at(7, 6, 15, j), func(ctx context.Context) error {
			_, _, err := st.s.Assessments.Put(ctx, st.admin, cr.sel.VillageID, "2026S1", in)
			return err
		})
	}
}
