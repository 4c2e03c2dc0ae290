package demo

import (
	"context"
	"fmt"
	"slices"

	"zhucun/domain"
)

// The report's people.
const (
	NumLeaders     = 36  // 包靠区级领导
	NumCadres      = 64  // 区直干部
	NumPeople      = 131 // everyone in the 45 teams
	NumTeams       = 45
	numTownMembers = NumPeople - NumLeaders - NumCadres // the towns' leadership members
	// teamsWithThree is how many district teams have three district
	// cadres; the others have two (14×3 + 11×2 = 64).
	teamsWithThree = NumCadres - 2*NumDistrict
)

var givenNames = []string{"建国", "卫东", "志强", "海燕", "红梅", "立新", "晓东", "文静", "国庆", "春雷", "秀英", "玉兰", "振华", "明亮", "丽娟",
	"永刚", "桂芝", "新民", "雪梅", "德胜", "鹏飞", "思远", "子涵", "浩然", "佳怡", "宇航", "欣悦", "俊杰", "梦琪", "博文", "雨桐", "天宇"}

// personName is the i-th generated name of a person.
func personName(i int) string {
	return string(surnames[(i*7)%len(surnames)]) + givenNames[(i*5+i/len(givenNames))%len(givenNames)]
}

// member is one person of the teams, with the caller the demo acts as.
type member struct {
	user   domain.User
	caller domain.Caller
	unit   domain.Unit // district cadres only
}

// crew is a selected village's team with its people.
type crew struct {
	sel     domain.Selection
	village domain.Village
	team    domain.Team
	leaders []*member // the responsible district leader(s), or the town team's leader
	cadres  []*member // district cadres; empty for a town team
	town    *member   // the town's assisting member (district teams)
}

// filers are the people who file the village's everyday records: the
// district cadres, or the town team's leader.
func (c *crew) filers() []*member {
	if len(c.cadres) > 0 {
		return c.cadres
	}
	return c.leaders
}

// buildTeams makes the 131 people and the 45 teams. Each district-level
// village gets one of the 36 district leaders as its responsible leader
// (11 villages a second one), two or three district cadres from the units
// whose type its problems call for (党委部门联弱、政法部门联乱、经济部门联穷、
// 业务部门联专业), and one of its town's leadership members; each town-level
// village a team led by a town leadership member. The 31 town members
// are shared among their town's teams. Leaders are senior or middle-aged,
// the cadres young, middle and senior in turn, the town members middle,
// so every district team mixes 老—中—青.
func buildTeams(ctx context.Context, s Services, c domain.Caller, d *District, add addFunc) ([]*crew, error) {
	unitNeeds := map[string]domain.UnitType{}
	for _, it := range domain.DefaultCatalogues {
		if it.Kind == domain.CatProblemAspects {
			unitNeeds[it.Code] = it.Unit
		}
	}
	unitsOf := map[domain.UnitType][]domain.Unit{}
	for _, u := range d.Units {
		unitsOf[u.Type] = append(unitsOf[u.Type], u)
	}
	villages := map[string]domain.Village{}
	for _, v := range d.Villages {
		villages[v.ID] = v
	}
	crews := make([]*crew, len(d.Selections))
	for j, sel := range d.Selections {
		crews[j] = &crew{sel: sel, village: villages[sel.VillageID]}
	}
	person := 0
	newPerson := func(role domain.Role, phone string, in domain.UserInput) (*member, error) {
		u, err := add(role, personName(person), phone, in)
		person++
		if err != nil {
			return nil, err
		}
		return &member{user: u}, nil
	}
	// District leaders: 25 lead, 11 are second leaders of the first villages.
	for i := range NumLeaders {
		j := i % NumDistrict
		senior := j >= teamsWithThree || j%3 != 0 || i >= NumDistrict
		birth := 1976 - i%9
		if !senior {
			birth = 1978 + i%5
		}
		m, err := newPerson(domain.RoleTeamLeader, fmt.Sprintf("1390543%04d", 2000+i), domain.UserInput{BirthYear: birth})
		if err != nil {
			return nil, err
		}
		crews[j].leaders = append(crews[j].leaders, m)
	}
	// District cadres, each from a unit of a type the village needs.
	next := map[domain.UnitType]int{}
	cadre := 0
	for j := range NumDistrict {
		n := 2
		if j < teamsWithThree {
			n = 3
		}
		var needs []domain.UnitType
		for _, pb := range d.problems {
			if pb.VillageID == crews[j].sel.VillageID {
				if t := unitNeeds[pb.Aspect]; t != "" && !slices.Contains(needs, t) {
					needs = append(needs, t)
				}
			}
		}
		if len(needs) == 0 {
			needs = domain.UnitTypes
		}
		for k := range n {
			typ := needs[k%len(needs)]
			u := unitsOf[typ][next[typ]%len(unitsOf[typ])]
			next[typ]++
			birth := []int{1998 - cadre%5, 1982 - cadre%8, 1969 - cadre%4}[k]
			m, err := newPerson(domain.RoleCadre, fmt.Sprintf("1390543%04d", 3000+cadre), domain.UserInput{UnitID: u.ID, BirthYear: birth})
			if err != nil {
				return nil, err
			}
			m.unit = u
			crews[j].cadres = append(crews[j].cadres, m)
			cadre++
		}
	}
	// Town members: share them among the towns by the teams each has.
	slots := map[string]int{}
	for _, cr := range crews {
		slots[cr.sel.TownID]++
	}
	have := map[string]int{}
	total := 0
	for _, t := range d.Towns {
		if slots[t.ID] > 0 {
			have[t.ID], total = 1, total+1
		}
	}
	for ; total < numTownMembers; total++ {
		best := ""
		for _, t := range d.Towns {
			if slots[t.ID] > 0 && (best == "" || slots[t.ID]*have[best] > slots[best]*have[t.ID]) {
				best = t.ID
			}
		}
		have[best]++
	}
	townPeople := map[string][]*member{}
	used := map[string]int{}
	tm := 0
	for _, t := range d.Towns {
		for range have[t.ID] {
			m, err := newPerson(domain.RoleTeamLeader, fmt.Sprintf("1390543%04d", 4000+tm), domain.UserInput{BirthYear: 1980 + tm%7})
			if err != nil {
				return nil, err
			}
			townPeople[t.ID] = append(townPeople[t.ID], m)
			tm++
		}
	}
	for _, cr := range crews {
		ps := townPeople[cr.sel.TownID]
		m := ps[used[cr.sel.TownID]%len(ps)]
		used[cr.sel.TownID]++
		if cr.sel.Level == domain.LevelDistrict {
			cr.town = m
		} else {
			cr.leaders = []*member{m}
		}
	}
	if person != NumPeople {
		return nil, fmt.Errorf("demo: %d people, want %d", person, NumPeople)
	}
	for _, cr := range crews {
		in := domain.TeamInput{CampaignID: d.Campaign.ID, VillageID: cr.sel.VillageID}
		leader := cr.leaders[0].user.ID
		in.LeaderID = &leader
		var members []string
		for _, m := range cr.leaders[1:] {
			members = append(members, m.user.ID)
		}
		for _, m := range cr.cadres {
			members = append(members, m.user.ID)
		}
		in.MemberIDs = &members
		if cr.town != nil {
			in.TownMemberID = &cr.town.user.ID
		}
		t, err := s.Teams.CreateTeam(ctx, c, in)
		if err != nil {
			return nil, fmt.Errorf("demo: team of %s: %w", cr.village.Name, err)
		}
		cr.team = t
		d.Teams = append(d.Teams, t)
	}
	// Each person acts with the scope its teams give it.
	for _, cr := range crews {
		for _, m := range append(append(slices.Clone(cr.leaders), cr.cadres...), cr.town) {
			if m == nil || m.caller.UserID != "" {
				continue
			}
			cl, err := s.Users.Caller(ctx, m.user.ID, "demo")
			if err != nil {
				return nil, fmt.Errorf("demo: caller: %w", err)
			}
			m.caller = cl
		}
	}
	return crews, nil
}
