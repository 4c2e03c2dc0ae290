package domain

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// User is an account. Phone is the login; PasswordHash never leaves the server.
type User struct {
	ID           string
	Name         string
	Phone        string
	PasswordHash string
	Role         Role
	TownID       string   // town_admin: its town
	VillageIDs   []string // team_leader, cadre: assigned villages
	// TownIDs is derived: TownID and the towns of VillageIDs. A town admin
	// sees the accounts whose TownIDs hold its town.
	TownIDs   []string
	Disabled  bool
	UnitID    string  // the dispatching unit the person comes from
	BirthYear int     // for the team's age mix; 0 when unknown
	AgeTier   AgeTier // set explicitly, or derived from BirthYear
	Security  UserSecurity
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UserFilter narrows an account listing.
type UserFilter struct {
	Scope        Scope
	Role         Role
	TownID       string
	VillageID    string
	NameContains string
}

// UserStore keeps accounts.
type UserStore interface {
	InsertUser(ctx context.Context, u User) error
	UpdateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, id string, s Scope) (User, error)
	UserByPhone(ctx context.Context, phone string) (User, error)
	ListUsers(ctx context.Context, f UserFilter, p Page) (List[User], error)
	CountUsers(ctx context.Context) (int64, error)
}

// PasswordHasher hashes and checks passwords (argon2id in production).
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(hash, password string) (bool, error)
}

// Password length limits.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

var phoneRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// ValidPhone reports whether s is a mainland China mobile number.
func ValidPhone(s string) bool { return phoneRE.MatchString(s) }

// UserService manages accounts.
type UserService struct {
	IDs    IDs // ids of what it creates; nil: NewID
	Store  UserStore
	Org    OrgStore
	Teams  TeamStore // units for unitId, and team membership for scope
	Hasher PasswordHasher
	Audit  Auditor
	Now    Clock
	Policy PasswordPolicy
	// Callers, when set, keeps the callers loaded for requests until an
	// account or team changes (this service and TeamService tell it).
	Callers *CallerCache
}

// CallerCache keeps the callers requests are made as — an account, its
// villages and towns and its teams' — until an account or a team changes.
// Every such write goes through the services of the one process that
// writes a database, which tell it; it holds at most maxCachedCallers.
type CallerCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]Caller
}

const maxCachedCallers = 10000

// Changed drops every cached caller.
func (c *CallerCache) Changed() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	c.m = nil
	c.mu.Unlock()
}

func (c *CallerCache) get(id string) (Caller, uint64, bool) {
	if c == nil {
		return Caller{}, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.m[id]
	return cl, c.gen, ok
}

// put keeps a caller loaded at generation gen, unless something changed since.
func (c *CallerCache) put(id string, cl Caller, gen uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedCallers {
		c.m = map[string]Caller{}
	}
	c.m[id] = cl
}

// with is a copy of a cached caller for one request (its lists its own).
func (cl Caller) with(requestID string) Caller {
	cl.RequestID = requestID
	cl.VillageIDs, cl.VillageTownIDs = slices.Clone(cl.VillageIDs), slices.Clone(cl.VillageTownIDs)
	return cl
}

// UserInput creates an account.
type UserInput struct {
	Name       string
	Phone      string
	Password   string
	Role       Role
	TownID     string
	VillageIDs []string
	UnitID     string
	BirthYear  int
	AgeTier    AgeTier
}

// UserPatch changes an account; nil fields stay as they are.
type UserPatch struct {
	Name       *string
	Phone      *string
	Password   *string
	Role       *Role
	TownID     *string
	VillageIDs *[]string
	Disabled   *bool
	UnitID     *string
	BirthYear  *int
	AgeTier    *AgeTier
}

// resolveScope checks an account's role, town and villages against each
// other and against what the caller may grant, and derives its TownIDs.
// prev are the villages the account had: a town admin may keep, but not
// add or remove, villages of other towns.
func (s UserService) resolveScope(ctx context.Context, c Caller, v *Validator, u *User, prev []string) error {
	if !u.Role.Valid() {
		v.Add("role", FieldInvalid, "role must be one of admin, leader, town_admin, team_leader, cadre, sys_admin, sec_admin, audit_admin")
		return nil
	}
	if c.Role == RoleTownAdmin && !u.Role.VillageLevel() {
		return Forbidden()
	}
	u.VillageIDs = slices.Compact(slices.Sorted(slices.Values(u.VillageIDs)))
	u.TownIDs = nil
	switch {
	case u.Role == RoleTownAdmin:
		if len(u.VillageIDs) > 0 {
			v.Add("villageIds", FieldInvalid, "a town admin is scoped by townId, not villages")
		}
		if v.Required("townId", u.TownID) {
			if _, err := s.Org.GetTown(ctx, u.TownID, Scope{All: true}); errors.Is(err, ErrNotFound) {
				v.Add("townId", FieldUnknown, "no such town")
			} else if err != nil {
				return err
			}
			u.TownIDs = []string{u.TownID}
		}
	case u.Role.VillageLevel():
		if u.TownID != "" {
			v.Add("townId", FieldInvalid, "team leaders and cadres are scoped by villageIds")
		}
		if len(u.VillageIDs) > 200 {
			v.Add("villageIds", FieldRange, "at most 200 villages")
			return nil
		}
		vs, err := s.Org.VillagesByIDs(ctx, slices.Concat(u.VillageIDs, prev))
		if err != nil {
			return err
		}
		found := map[string]string{}
		for _, vil := range vs {
			found[vil.ID] = vil.TownID
		}
		if c.Role == RoleTownAdmin {
			for _, id := range prev {
				if town, ok := found[id]; ok && town != c.TownID && !slices.Contains(u.VillageIDs, id) {
					v.Add("villageIds", FieldInvalid, "you cannot remove a village of another town: "+id)
				}
			}
		}
		for _, id := range u.VillageIDs {
			town, ok := found[id]
			if !ok {
				v.Add("villageIds", FieldUnknown, "no such village: "+id)
				continue
			}
			if c.Role == RoleTownAdmin && town != c.TownID && !slices.Contains(prev, id) {
				v.Add("villageIds", FieldUnknown, "no such village in your town: "+id)
				continue
			}
			if !slices.Contains(u.TownIDs, town) {
				u.TownIDs = append(u.TownIDs, town)
			}
		}
		if c.Role == RoleTownAdmin && !slices.Contains(u.TownIDs, c.TownID) {
			// A town admin's accounts stay visible to it even before they get villages.
			u.TownIDs = append(u.TownIDs, c.TownID)
		}
		slices.Sort(u.TownIDs)
	default:
		if u.TownID != "" || len(u.VillageIDs) > 0 {
			v.Add("role", FieldInvalid, "admins and leaders have district scope and take no townId or villageIds")
		}
	}
	return nil
}

// checkProfile checks the unit, birth year and age tier of an account.
func (s UserService) checkProfile(ctx context.Context, v *Validator, u *User) error {
	if u.UnitID != "" {
		if s.Teams == nil {
			v.Add("unitId", FieldUnknown, "no such unit")
		} else if _, err := s.Teams.GetUnit(ctx, u.UnitID); errors.Is(err, ErrNotFound) {
			v.Add("unitId", FieldUnknown, "no such unit")
		} else if err != nil {
			return err
		}
	}
	if y := s.Now().Year(); u.BirthYear != 0 && (u.BirthYear < 1930 || u.BirthYear > y-16) {
		v.Add("birthYear", FieldRange, fmt.Sprintf("birthYear must be from 1930 to %d", y-16))
	}
	if u.AgeTier != "" && !u.AgeTier.Valid() {
		v.Add("ageTier", FieldInvalid, "ageTier must be senior, middle or young")
	}
	return nil
}

// Create adds an account. The system administrator creates any (one of a
// privileged role starts locked, until a security administrator unlocks
// it); a town admin creates team leaders and cadres for the villages of
// its town. The password is the administrator's choice: the account
// changes it at first sign-in.
func (s UserService) Create(ctx context.Context, c Caller, in UserInput) (User, error) {
	return s.create(ctx, c, in, true)
}

func (s UserService) create(ctx context.Context, c Caller, in UserInput, byOther bool) (User, error) {
	if !c.Is(RoleSysAdmin, RoleTownAdmin) {
		return User{}, forbiddenBecause("accounts are created by the system administrator (系统管理员) or a town admin")
	}
	u := User{
		Name: strings.TrimSpace(in.Name), Phone: strings.TrimSpace(in.Phone), Role: in.Role,
		TownID: strings.TrimSpace(in.TownID), VillageIDs: in.VillageIDs,
		UnitID: strings.TrimSpace(in.UnitID), BirthYear: in.BirthYear, AgeTier: in.AgeTier,
	}
	var v Validator
	if err := s.checkProfile(ctx, &v, &u); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if v.Required("name", u.Name) {
		v.MaxLen("name", u.Name, maxName)
	}
	if v.Required("phone", u.Phone) && !ValidPhone(u.Phone) {
		v.Add("phone", FieldInvalid, "phone must be an 11-digit mobile number")
	}
	validatePassword(&v, in.Password, u.Phone)
	if v.Required("role", string(u.Role)) {
		if err := s.resolveScope(ctx, c, &v, &u, nil); err != nil {
			return User{}, fmt.Errorf("create user: %w", err)
		}
	}
	if err := v.Err(); err != nil {
		return User{}, err
	}
	hash, err := s.Hasher.Hash(in.Password)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	now := s.Now()
	u.ID, u.CreatedAt, u.UpdatedAt = s.IDs.New(now), now, now
	s.Policy.setPassword(&u, hash, now, byOther)
	// Two people make a privileged account: the system administrator
	// creates it, a security administrator unlocks it.
	u.Disabled = u.Role.Privileged() && !c.System
	defer s.Callers.Changed()
	if err := s.Store.InsertUser(ctx, u); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return User{}, takenErr("phone", "an account with this phone already exists")
		}
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, s.Audit.Record(ctx, c, "user", u.ID, "create", first(u.TownIDs))
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// Get returns an account in the caller's scope.
func (s UserService) Get(ctx context.Context, c Caller, id string) (User, error) {
	u, err := s.Store.GetUser(ctx, id, c.UserScope())
	if errors.Is(err, ErrNotFound) {
		return User{}, NotFound("user")
	}
	return u, err
}

// List lists the accounts in the caller's scope.
func (s UserService) List(ctx context.Context, c Caller, f UserFilter, p Page) (List[User], error) {
	f.Scope = c.UserScope()
	if f.Scope.Empty() {
		return List[User]{}, nil
	}
	return s.Store.ListUsers(ctx, f, p)
}

// mayPatch checks a change of account u against the caller's duties: the
// system administrator keeps profiles, scopes and the passwords of the
// campaign's accounts; the security administrator grants roles, locks and
// unlocks, and resets passwords; a town admin keeps the team leaders and
// cadres of its town. Nobody changes their own role or lock.
func mayPatch(c Caller, u User, p UserPatch) error {
	profile := p.Name != nil || p.Phone != nil || p.UnitID != nil || p.BirthYear != nil || p.AgeTier != nil
	scope := p.TownID != nil || p.VillageIDs != nil
	self := u.ID == c.UserID
	switch {
	case c.System:
		return nil
	case self && p.Role != nil:
		return forbiddenBecause("nobody changes their own role")
	case self && p.Password != nil:
		return forbiddenBecause("change your own password with POST /api/v1/me/password")
	case c.Role == RoleSysAdmin:
		switch {
		case p.Disabled != nil:
			return forbiddenBecause("locks and unlocks are the security administrator's (安全管理员)")
		case p.Role != nil && (p.Role.Privileged() || u.Role.Privileged()):
			return forbiddenBecause("administrator roles are granted by the security administrator (安全管理员)")
		case p.Password != nil && u.Role.Privileged():
			return forbiddenBecause("an administrator's password is reset by the security administrator (安全管理员)")
		}
		return nil
	case c.Role == RoleSecAdmin:
		if profile || scope && p.Role == nil {
			return forbiddenBecause("profiles and scopes are the system administrator's (系统管理员); a role grant may set the scope it needs")
		}
		return nil
	case c.Role == RoleTownAdmin && u.Role.VillageLevel():
		return nil
	}
	return forbiddenBecause("accounts are kept by the system and security administrators")
}

// Update changes an account, within the caller's duties (mayPatch).
func (s UserService) Update(ctx context.Context, c Caller, id string, p UserPatch) (User, error) {
	u, err := s.Get(ctx, c, id)
	if err != nil {
		return User{}, err
	}
	if err := mayPatch(c, u, p); err != nil {
		return User{}, err
	}
	prev := slices.Clone(u.VillageIDs)
	var v Validator
	if p.Name != nil {
		u.Name = strings.TrimSpace(*p.Name)
		if v.Required("name", u.Name) {
			v.MaxLen("name", u.Name, maxName)
		}
	}
	phoneChanged := false
	if p.Phone != nil && strings.TrimSpace(*p.Phone) != u.Phone {
		u.Phone = strings.TrimSpace(*p.Phone)
		phoneChanged = true
		if !ValidPhone(u.Phone) {
			v.Add("phone", FieldInvalid, "phone must be an 11-digit mobile number")
		}
	}
	if p.Password != nil {
		validatePassword(&v, *p.Password, u.Phone)
	}
	if p.Role != nil {
		u.Role = *p.Role
	}
	if p.TownID != nil {
		u.TownID = strings.TrimSpace(*p.TownID)
	}
	if p.VillageIDs != nil {
		u.VillageIDs = *p.VillageIDs
	}
	if p.UnitID != nil {
		u.UnitID = strings.TrimSpace(*p.UnitID)
	}
	if p.BirthYear != nil {
		u.BirthYear = *p.BirthYear
	}
	if p.AgeTier != nil {
		u.AgeTier = *p.AgeTier
	}
	if err := s.checkProfile(ctx, &v, &u); err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	if p.Disabled != nil {
		if *p.Disabled && u.ID == c.UserID {
			v.Add("disabled", FieldInvalid, "you cannot disable your own account")
		}
		u.Disabled = *p.Disabled
	}
	if err := s.resolveScope(ctx, c, &v, &u, prev); err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	if err := v.Err(); err != nil {
		return User{}, err
	}
	if phoneChanged {
		if other, err := s.Store.UserByPhone(ctx, u.Phone); err == nil && other.ID != u.ID {
			return User{}, takenErr("phone", "an account with this phone already exists")
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return User{}, fmt.Errorf("update user: %w", err)
		}
	}
	now := s.Now()
	if p.Password != nil {
		if again, err := s.Policy.reused(s.Hasher, u, *p.Password); err != nil {
			return User{}, fmt.Errorf("update user: %w", err)
		} else if again {
			return User{}, s.Policy.passwordReused()
		}
		hash, err := s.Hasher.Hash(*p.Password)
		if err != nil {
			return User{}, fmt.Errorf("update user: %w", err)
		}
		s.Policy.setPassword(&u, hash, now, true)
	}
	u.UpdatedAt = now
	defer s.Callers.Changed()
	if err := s.Store.UpdateUser(ctx, u); err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	return u, s.Audit.Record(ctx, c, "user", u.ID, "update", first(u.TownIDs))
}

// Caller loads the account behind a token as a Caller. A missing or
// disabled account is unauthorized.
func (s UserService) Caller(ctx context.Context, userID, requestID string) (Caller, error) {
	cached, gen, ok := s.Callers.get(userID)
	if ok {
		return cached.with(requestID), nil
	}
	c, err := s.loadCaller(ctx, userID)
	if err != nil {
		return Caller{}, err
	}
	s.Callers.put(userID, c, gen)
	return c.with(requestID), nil
}

func (s UserService) loadCaller(ctx context.Context, userID string) (Caller, error) {
	u, err := s.Store.GetUser(ctx, userID, Scope{All: true})
	if errors.Is(err, ErrNotFound) || err == nil && u.Disabled {
		return Caller{}, &Error{Kind: KindUnauthorized, Code: "invalid_token", Message: "the account no longer exists or is disabled"}
	}
	if err != nil {
		return Caller{}, fmt.Errorf("load caller: %w", err)
	}
	changed := u.Security.PasswordChangedAt
	if changed.IsZero() {
		changed = u.CreatedAt // an account from before the policy
	}
	c := Caller{UserID: u.ID, Name: u.Name, Role: u.Role, TownID: u.TownID,
		MustChangePassword: u.Security.MustChangePassword, PasswordChangedAt: changed, SecondFactor: u.Security.TOTPSecret != ""}
	if u.Role.VillageLevel() {
		c.VillageIDs = slices.Clone(u.VillageIDs)
		c.VillageTownIDs = slices.Clone(u.TownIDs)
		// A team's people get its village in their scope.
		if s.Teams != nil {
			vs, ts, err := teamVillages(ctx, s.Teams, u.ID)
			if err != nil {
				return Caller{}, fmt.Errorf("load caller: %w", err)
			}
			for _, v := range vs {
				if !slices.Contains(c.VillageIDs, v) {
					c.VillageIDs = append(c.VillageIDs, v)
				}
			}
			for _, t := range ts {
				if !slices.Contains(c.VillageTownIDs, t) {
					c.VillageTownIDs = append(c.VillageTownIDs, t)
				}
			}
		}
	}
	return c, nil
}

// EnsureAdmin creates the first admin account when no account exists.
// It reports whether it created one.
func (s UserService) EnsureAdmin(ctx context.Context, phone, password string) (bool, error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil {
		return false, fmt.Errorf("ensure admin: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	// The deployer chose this password: it is not changed at first sign-in.
	_, err = s.create(ctx, System("startup"), UserInput{Name: "管理员", Phone: phone, Password: password, Role: RoleAdmin}, false)
	if err != nil {
		return false, fmt.Errorf("ensure admin: %w", err)
	}
	return true, nil
}

// MaskPhone shows a mobile number as 138****0000 (PIPL: shown whole only
// to whom it concerns).
func MaskPhone(p string) string {
	r := []rune(p)
	if len(r) < 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// PhoneWhole reports whether a caller sees an account's phone number whole
// when it reads that one account: its own, or one it keeps (the system
// administrator, or the admin of the account's town). Lists show it
// masked, except one's own.
func PhoneWhole(c Caller, u User) bool {
	switch {
	case c.UserID == u.ID, c.Role == RoleSysAdmin:
		return true
	case c.Role == RoleTownAdmin:
		return c.TownID != "" && (u.TownID == c.TownID || slices.Contains(u.TownIDs, c.TownID))
	}
	return false
}
