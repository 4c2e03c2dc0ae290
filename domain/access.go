package domain

import (
	"slices"
	"time"
)

// Role is what an account may do.
type Role string

// The roles. The campaign's own five, and the three administrators of
// separated duties (三员分立, GB/T 22239-2019 8.1.4.2), none of whom sees
// the campaign's content: one account holds one role, so no account holds
// two of them. docs/security.md has the table of who may do what.
const (
	RoleAdmin      Role = "admin"       // the organisation department's campaign administrator: the campaign's data
	RoleLeader     Role = "leader"      // reads everything, writes nothing
	RoleTownAdmin  Role = "town_admin"  // one town and its villages
	RoleTeamLeader Role = "team_leader" // the villages assigned to it
	RoleCadre      Role = "cadre"       // the villages assigned to it

	RoleSysAdmin   Role = "sys_admin"   // system administrator: accounts, towns and villages
	RoleSecAdmin   Role = "sec_admin"   // security administrator: role grants, locks, second factors, password resets
	RoleAuditAdmin Role = "audit_admin" // audit administrator: reads and exports the audit trail, nothing else
)

// CampaignRoles are the roles of the campaign's own work, in order of reach.
var CampaignRoles = []Role{RoleAdmin, RoleLeader, RoleTownAdmin, RoleTeamLeader, RoleCadre}

// Roles lists every role: the campaign's, then the three administrators.
var Roles = []Role{RoleAdmin, RoleLeader, RoleTownAdmin, RoleTeamLeader, RoleCadre, RoleSysAdmin, RoleSecAdmin, RoleAuditAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Privileged reports whether r is granted by a security administrator
// only: the campaign administrator and the three administrators.
func (r Role) Privileged() bool {
	return r == RoleAdmin || r == RoleSysAdmin || r == RoleSecAdmin || r == RoleAuditAdmin
}

// VillageLevel reports whether r is scoped to assigned villages.
func (r Role) VillageLevel() bool { return r == RoleTeamLeader || r == RoleCadre }

// Caller is the authenticated account a service acts for, with the scope
// it was loaded with and the request it came in.
type Caller struct {
	UserID     string
	Name       string
	Role       Role
	TownID     string   // town_admin: its town
	VillageIDs []string // team_leader, cadre: assigned villages
	// VillageTownIDs are the towns of VillageIDs, which village-level roles may read.
	VillageTownIDs []string
	RequestID      string
	Addr           string // the client's address, for the audit trail
	// System marks work started from the shell or at start-up, which may
	// do what every role may (the operator of the host can anyway).
	System bool
	// Password and factor state of the account, for the checks each request makes.
	MustChangePassword bool
	PasswordChangedAt  time.Time
	SecondFactor       bool // a TOTP factor is enrolled
}

// System is the caller for work started from the shell or at start-up.
func System(requestID string) Caller {
	return Caller{UserID: "system", Name: "system", Role: RoleAdmin, RequestID: requestID, System: true}
}

// Is reports whether the caller has one of the roles, or is the system.
func (c Caller) Is(roles ...Role) bool { return c.System || slices.Contains(roles, c.Role) }

// Scope says which records of a kind a caller may see. The zero Scope
// matches nothing: access is denied by default.
type Scope struct {
	All     bool     // every record
	IDs     []string // records with these ids
	TownIDs []string // records belonging to these towns
}

// Empty reports whether the scope matches nothing.
func (s Scope) Empty() bool { return !s.All && len(s.IDs) == 0 && len(s.TownIDs) == 0 }

// ReadsAll reports whether the caller may read every record.
func (c Caller) ReadsAll() bool { return c.Role == RoleAdmin || c.Role == RoleLeader }

// VillageScope is the set of villages the caller may see.
func (c Caller) VillageScope() Scope {
	switch {
	case c.ReadsAll():
		return Scope{All: true}
	case c.Role == RoleTownAdmin && c.TownID != "":
		return Scope{TownIDs: []string{c.TownID}}
	case c.Role.VillageLevel():
		return Scope{IDs: c.VillageIDs}
	}
	return Scope{}
}

// TownScope is the set of towns the caller may see.
func (c Caller) TownScope() Scope {
	switch {
	case c.ReadsAll():
		return Scope{All: true}
	case c.Role == RoleTownAdmin && c.TownID != "":
		return Scope{IDs: []string{c.TownID}}
	case c.Role.VillageLevel():
		return Scope{IDs: c.VillageTownIDs}
	}
	return Scope{}
}

// OrgVillageScope is the set of villages the caller may see as part of
// the district's organisation (the villages, not their work): the
// campaign's scope, and every village for the system administrator, who
// assigns accounts to them.
func (c Caller) OrgVillageScope() Scope {
	if c.Role == RoleSysAdmin {
		return Scope{All: true}
	}
	return c.VillageScope()
}

// OrgTownScope is OrgVillageScope for towns.
func (c Caller) OrgTownScope() Scope {
	if c.Role == RoleSysAdmin {
		return Scope{All: true}
	}
	return c.TownScope()
}

// UserScope is the set of accounts the caller may see: everyone for the
// district roles and the system and security administrators, the accounts
// of its town for a town admin, and itself otherwise.
func (c Caller) UserScope() Scope {
	switch {
	case c.ReadsAll(), c.Role == RoleSysAdmin, c.Role == RoleSecAdmin:
		return Scope{All: true}
	case c.Role == RoleTownAdmin && c.TownID != "":
		return Scope{IDs: []string{c.UserID}, TownIDs: []string{c.TownID}}
	case c.UserID != "":
		return Scope{IDs: []string{c.UserID}}
	}
	return Scope{}
}

// CanSeeVillage reports whether a village of the given town is in scope.
func (c Caller) CanSeeVillage(villageID, townID string) bool {
	return c.VillageScope().Matches(villageID, townID)
}

// Matches reports whether a record with this id, belonging to this town, is in the scope.
func (s Scope) Matches(id string, townIDs ...string) bool {
	if s.All {
		return true
	}
	if slices.Contains(s.IDs, id) {
		return true
	}
	for _, t := range townIDs {
		if slices.Contains(s.TownIDs, t) {
			return true
		}
	}
	return false
}

// Page asks for one page of a list: at most Limit items after the cursor.
type Page struct {
	Limit int
	After string // the id of the last item of the previous page
}

// Page limits.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// List is one page of results; Next is empty on the last page.
type List[T any] struct {
	Items []T
	Next  string
}
