package domain

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// CatalogueKind names one of the editable catalogues.
type CatalogueKind string

// The catalogues.
const (
	CatManifestations CatalogueKind = "manifestations"  // 软弱涣散表现
	CatProblemAspects CatalogueKind = "problem-aspects" // 问题方面
	CatDomains        CatalogueKind = "domains"         // 任务领域
	CatTasks          CatalogueKind = "tasks"           // 具体工作任务
	CatIndicators     CatalogueKind = "indicators"      // 考核指标
)

// CatalogueKinds lists every catalogue.
var CatalogueKinds = []CatalogueKind{CatManifestations, CatProblemAspects, CatDomains, CatTasks, CatIndicators}

// Indicator groups of the assessment (考核): 八大共性指标, 差异化指标, 加减分项目.
const (
	IndicatorCommon         = "common"
	IndicatorDifferentiated = "differentiated"
	IndicatorBonus          = "bonus"
	IndicatorPenalty        = "penalty"
)

// IndicatorGroups lists the indicator groups.
var IndicatorGroups = []string{IndicatorCommon, IndicatorDifferentiated, IndicatorBonus, IndicatorPenalty}

// UnitType is the kind of a dispatching unit, used to pair units with villages.
type UnitType string

// The unit types and the problems they are paired with (人岗相适).
const (
	UnitParty          UnitType = "party"           // 党委部门联弱: weak organisation
	UnitPoliticalLegal UnitType = "political_legal" // 政法部门联乱: disorder
	UnitEconomic       UnitType = "economic"        // 经济部门联穷: poverty
	UnitLine           UnitType = "line"            // 业务部门联专业: specialist problems
)

// UnitTypes lists every unit type.
var UnitTypes = []UnitType{UnitParty, UnitPoliticalLegal, UnitEconomic, UnitLine}

// Valid reports whether t is a known unit type.
func (t UnitType) Valid() bool {
	for _, u := range UnitTypes {
		if u == t {
			return true
		}
	}
	return false
}

// CatalogueItem is one entry of a catalogue. Codes are stable; names,
// order and whether an item is active can be edited.
type CatalogueItem struct {
	Kind   CatalogueKind
	Code   string
	Name   string
	Domain string   // tasks: the domain's code
	Unit   UnitType // problem aspects: the unit type paired with it
	// FromReport marks the items the source report names; the others are
	// defaults in the same spirit, for the department to edit.
	FromReport bool
	Active     bool
	Order      int
	// Indicators: the group and the most points (a penalty's most deducted).
	Group     string
	MaxScore  int
	UpdatedAt time.Time
}

// CatalogueStore keeps the catalogues.
type CatalogueStore interface {
	// SeedCatalogueItem inserts an item unless its kind and code exist.
	SeedCatalogueItem(ctx context.Context, it CatalogueItem) error
	PutCatalogueItem(ctx context.Context, it CatalogueItem) error
	CatalogueItem(ctx context.Context, kind CatalogueKind, code string) (CatalogueItem, error)
	Catalogue(ctx context.Context, kind CatalogueKind) ([]CatalogueItem, error)
}

// DefaultCatalogues are shipped with zhucun and seeded at start-up.
var DefaultCatalogues = []CatalogueItem{
	// 软弱涣散10种表现: the four the report names first.
	{Kind: CatManifestations, Code: "shell_economy", Name: "集体经济空壳村", FromReport: true},
	{Kind: CatManifestations, Code: "disunited_leadership", Name: "班子不团结", FromReport: true},
	{Kind: CatManifestations, Code: "disorderly_openness", Name: "党务村务财务公开和民主管理混乱", FromReport: true},
	{Kind: CatManifestations, Code: "weak_service", Name: "党组织服务能力弱", FromReport: true},
	{Kind: CatManifestations, Code: "secretary_unfit", Name: "党组织书记不胜任现职或长期缺职"},
	{Kind: CatManifestations, Code: "lax_organisation_life", Name: "组织生活不正常、党员教育管理松散"},
	{Kind: CatManifestations, Code: "prominent_petitions", Name: "信访矛盾集中、群众意见较大"},
	{Kind: CatManifestations, Code: "clan_vice_interference", Name: "宗族宗教或黑恶势力干扰村务"},
	{Kind: CatManifestations, Code: "violations", Name: "违纪违法问题突出"},
	{Kind: CatManifestations, Code: "election_problems", Name: "换届选举拉票贿选或选举秩序混乱"},

	// 八个方面问题, each paired with the unit type that fits it.
	{Kind: CatProblemAspects, Code: "petitions", Name: "农村党员群众信访突出", Unit: UnitPoliticalLegal, FromReport: true},
	{Kind: CatProblemAspects, Code: "disunity", Name: "\u201c两委\u201d班子不团结", Unit: UnitParty, FromReport: true},
	{Kind: CatProblemAspects, Code: "weak_organisation", Name: "党组织软弱涣散、战斗力不强", Unit: UnitParty},
	{Kind: CatProblemAspects, Code: "affairs_disorder", Name: "村务财务管理混乱、公开不到位", Unit: UnitParty},
	{Kind: CatProblemAspects, Code: "public_order", Name: "矛盾纠纷多发、社会治安问题突出", Unit: UnitPoliticalLegal},
	{Kind: CatProblemAspects, Code: "weak_economy", Name: "集体经济薄弱、群众增收困难", Unit: UnitEconomic},
	{Kind: CatProblemAspects, Code: "infrastructure", Name: "基础设施薄弱、人居环境较差", Unit: UnitLine},
	{Kind: CatProblemAspects, Code: "public_services", Name: "民生服务不到位、历史遗留问题多", Unit: UnitLine},

	// 六大任务目标.
	{Kind: CatDomains, Code: "social_stability", Name: "社会和谐稳定", FromReport: true},
	{Kind: CatDomains, Code: "leadership", Name: "班子队伍建设", FromReport: true},
	{Kind: CatDomains, Code: "development", Name: "经济社会发展", FromReport: true},
	{Kind: CatDomains, Code: "livelihood", Name: "民生实事落实", FromReport: true},
	{Kind: CatDomains, Code: "party_building", Name: "基层党组织建设"},
	{Kind: CatDomains, Code: "governance", Name: "村级民主管理"},

	// 11项具体工作任务.
	{Kind: CatTasks, Code: "resolve_disputes", Name: "排查化解矛盾纠纷", Domain: "social_stability"},
	{Kind: CatTasks, Code: "handle_petitions", Name: "处置信访积案和历史遗留问题", Domain: "social_stability"},
	{Kind: CatTasks, Code: "strengthen_team", Name: "配强建优村\u201c两委\u201d班子", Domain: "leadership"},
	{Kind: CatTasks, Code: "reserve_cadres", Name: "培养后备力量和积极分子", Domain: "leadership"},
	{Kind: CatTasks, Code: "collective_economy", Name: "发展壮大村集体经济", Domain: "development"},
	{Kind: CatTasks, Code: "industry_projects", Name: "推进产业项目带动增收", Domain: "development"},
	{Kind: CatTasks, Code: "livelihood_projects", Name: "办好民生实事", Domain: "livelihood"},
	{Kind: CatTasks, Code: "living_environment", Name: "改善基础设施和人居环境", Domain: "livelihood"},
	{Kind: CatTasks, Code: "organisation_life", Name: "规范党组织生活和党员管理", Domain: "party_building"},
	{Kind: CatTasks, Code: "democratic_management", Name: "落实\u201c四议两公开\u201d民主决策", Domain: "governance"},
	{Kind: CatTasks, Code: "openness", Name: "推行党务村务财务公开", Domain: "governance"},

	// 八大共性指标 (the report counts eight; their names are defaults to edit),
	// a differentiated indicator for each village's own targets, and the
	// bonus and penalty items of the team assessment rules.
	{Kind: CatIndicators, Code: "team_building", Name: "班子队伍建设", Group: IndicatorCommon, MaxScore: 10},
	{Kind: CatIndicators, Code: "organisation_life", Name: "党组织生活规范", Group: IndicatorCommon, MaxScore: 10},
	{Kind: CatIndicators, Code: "member_management", Name: "党员教育管理", Group: IndicatorCommon, MaxScore: 10},
	{Kind: CatIndicators, Code: "collective_economy", Name: "村集体经济发展", Group: IndicatorCommon, MaxScore: 10},
	{Kind: CatIndicators, Code: "dispute_resolution", Name: "矛盾纠纷排查化解", Group: IndicatorCommon, MaxScore: 10},
	{Kind: CatIndicators, Code: "livelihood", Name: "民生实事落实", Group: IndicatorCommon, MaxScore: 10},
	{Kind: CatIndicators, Code: "openness", Name: "村务公开和民主管理", Group: IndicatorCommon, MaxScore: 10},
	{Kind: CatIndicators, Code: "satisfaction", Name: "群众满意度", Group: IndicatorCommon, MaxScore: 10},
	{Kind: CatIndicators, Code: "village_targets", Name: "本村差异化整顿目标完成情况", Group: IndicatorDifferentiated, MaxScore: 20},
	{Kind: CatIndicators, Code: "innovation", Name: "工作创新和典型经验", Group: IndicatorBonus, MaxScore: 5},
	{Kind: CatIndicators, Code: "discipline", Name: "违纪违规和重大信访事件", Group: IndicatorPenalty, MaxScore: 10},
}

var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// CatalogueService reads and edits the catalogues.
type CatalogueService struct {
	Store CatalogueStore
	Audit Auditor
	Now   Clock
}

// Seed adds the default items that are missing; it never overwrites edits.
func (s CatalogueService) Seed(ctx context.Context) error {
	now := s.Now()
	order := map[CatalogueKind]int{}
	for _, it := range DefaultCatalogues {
		order[it.Kind]++
		it.Order, it.Active, it.UpdatedAt = order[it.Kind], true, now
		if err := s.Store.SeedCatalogueItem(ctx, it); err != nil {
			return fmt.Errorf("seed catalogues: %w", err)
		}
	}
	return nil
}

func validKind(k CatalogueKind) bool {
	for _, c := range CatalogueKinds {
		if c == k {
			return true
		}
	}
	return false
}

// List returns a catalogue in its order, inactive items included.
func (s CatalogueService) List(ctx context.Context, kind CatalogueKind) ([]CatalogueItem, error) {
	if !validKind(kind) {
		return nil, NotFound("catalogue")
	}
	return s.Store.Catalogue(ctx, kind)
}

// CatalogueInput creates or changes one item.
type CatalogueInput struct {
	Name     *string
	Domain   *string
	Unit     *string
	Active   *bool
	Order    *int
	Group    *string
	MaxScore *int
}

// Put creates or changes the item kind/code. Admins only. It reports
// whether the item was created.
func (s CatalogueService) Put(ctx context.Context, c Caller, kind CatalogueKind, code string, in CatalogueInput) (CatalogueItem, bool, error) {
	if !validKind(kind) {
		return CatalogueItem{}, false, NotFound("catalogue")
	}
	if c.Role != RoleAdmin {
		return CatalogueItem{}, false, Forbidden()
	}
	var v Validator
	if !codeRE.MatchString(code) {
		v.Add("code", FieldInvalid, "code must be 2–40 lower-case letters, digits or _ and start with a letter")
		return CatalogueItem{}, false, v.Err()
	}
	it, err := s.Store.CatalogueItem(ctx, kind, code)
	created := errors.Is(err, ErrNotFound)
	if err != nil && !created {
		return CatalogueItem{}, false, fmt.Errorf("put catalogue item: %w", err)
	}
	if created {
		it = CatalogueItem{Kind: kind, Code: code, Active: true}
		all, err := s.Store.Catalogue(ctx, kind)
		if err != nil {
			return CatalogueItem{}, false, fmt.Errorf("put catalogue item: %w", err)
		}
		it.Order = len(all) + 1
		if in.Name == nil {
			v.Add("name", FieldRequired, "name is required")
		}
	}
	if in.Name != nil {
		it.Name = strings.TrimSpace(*in.Name)
		if v.Required("name", it.Name) {
			v.MaxLen("name", it.Name, maxName)
		}
	}
	if in.Active != nil {
		it.Active = *in.Active
	}
	if in.Order != nil {
		if *in.Order < 1 || *in.Order > 1000 {
			v.Add("order", FieldRange, "order must be from 1 to 1000")
		}
		it.Order = *in.Order
	}
	if in.Domain != nil {
		if kind != CatTasks {
			v.Add("domain", FieldInvalid, "only tasks have a domain")
		} else if d, err := s.Store.CatalogueItem(ctx, CatDomains, *in.Domain); errors.Is(err, ErrNotFound) || err == nil && !d.Active {
			v.Add("domain", FieldUnknown, "no such active domain: "+*in.Domain)
		} else if err != nil {
			return CatalogueItem{}, false, fmt.Errorf("put catalogue item: %w", err)
		}
		it.Domain = *in.Domain
	} else if kind == CatTasks && it.Domain == "" {
		v.Add("domain", FieldRequired, "a task needs its domain")
	}
	if in.Unit != nil {
		if kind != CatProblemAspects {
			v.Add("unitType", FieldInvalid, "only problem aspects have a unit type")
		} else if !UnitType(*in.Unit).Valid() {
			v.Add("unitType", FieldInvalid, "unitType must be party, political_legal, economic or line")
		}
		it.Unit = UnitType(*in.Unit)
	}
	if in.Group != nil || in.MaxScore != nil {
		if kind != CatIndicators {
			v.Add("group", FieldInvalid, "only indicators have a group and a maximum score")
		}
		if in.Group != nil {
			it.Group = *in.Group
		}
		if in.MaxScore != nil {
			it.MaxScore = *in.MaxScore
		}
	}
	if kind == CatIndicators {
		if !slices.Contains(IndicatorGroups, it.Group) {
			v.Add("group", FieldInvalid, "group must be common, differentiated, bonus or penalty")
		}
		if it.MaxScore < 1 || it.MaxScore > 100 {
			v.Add("maxScore", FieldRange, "maxScore must be from 1 to 100")
		}
	}
	if err := v.Err(); err != nil {
		return CatalogueItem{}, false, err
	}
	it.UpdatedAt = s.Now()
	if err := s.Store.PutCatalogueItem(ctx, it); err != nil {
		return CatalogueItem{}, false, fmt.Errorf("put catalogue item: %w", err)
	}
	action := "update"
	if created {
		action = "create"
	}
	return it, created, s.Audit.Record(ctx, c, "catalogue", string(kind)+"/"+code, action, "")
}

// checkCodes records a field error for each code that is not an active
// item of the catalogue, and for duplicates.
func checkCodes(ctx context.Context, store CatalogueStore, v *Validator, field string, kind CatalogueKind, codes []string) error {
	seen := map[string]bool{}
	for _, code := range codes {
		if seen[code] {
			v.Add(field, FieldInvalid, "listed twice: "+code)
			continue
		}
		seen[code] = true
		it, err := store.CatalogueItem(ctx, kind, code)
		switch {
		case errors.Is(err, ErrNotFound) || err == nil && !it.Active:
			v.Add(field, FieldUnknown, fmt.Sprintf("no such active %s code: %q", kind, code))
		case err != nil:
			return err
		}
	}
	return nil
}
