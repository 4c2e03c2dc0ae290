package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

type userRow struct {
	ID           string      `bson:"_id"`
	Name         string      `bson:"name"`
	Phone        string      `bson:"phone"`
	PasswordHash string      `bson:"passwordHash"`
	Role         string      `bson:"role"`
	TownID       string      `bson:"townId,omitempty"`
	VillageIDs   []string    `bson:"villageIds"`
	TownIDs      []string    `bson:"townIds"`
	Disabled     bool        `bson:"disabled"`
	UnitID       string      `bson:"unitId,omitempty"`
	BirthYear    int         `bson:"birthYear,omitempty"`
	AgeTier      string      `bson:"ageTier,omitempty"`
	Security     securityRow `bson:"security"`
	CreatedAt    time.Time   `bson:"createdAt"`
	UpdatedAt    time.Time   `bson:"updatedAt"`
}

// securityRow is domain.UserSecurity.
type securityRow struct {
	PasswordChangedAt  time.Time `bson:"passwordChangedAt,omitempty"`
	MustChangePassword bool      `bson:"mustChangePassword,omitempty"`
	PasswordHistory    []string  `bson:"passwordHistory,omitempty"`
	TOTPSecret         string    `bson:"totpSecret,omitempty"`
	TOTPPending        string    `bson:"totpPending,omitempty"`
	RecoveryCodes      []string  `bson:"recoveryCodes,omitempty"`
}

func (r userRow) id() string { return r.ID }

func toUserRow(u domain.User) userRow {
	r := userRow{ID: u.ID, Name: u.Name, Phone: u.Phone, PasswordHash: u.PasswordHash, Role: string(u.Role),
		TownID: u.TownID, VillageIDs: u.VillageIDs, TownIDs: u.TownIDs, Disabled: u.Disabled,
		UnitID: u.UnitID, BirthYear: u.BirthYear, AgeTier: string(u.AgeTier),
		Security:  securityRow(u.Security),
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	if r.VillageIDs == nil {
		r.VillageIDs = []string{}
	}
	if r.TownIDs == nil {
		r.TownIDs = []string{}
	}
	return r
}

func toUser(r userRow) domain.User {
	u := domain.User{ID: r.ID, Name: r.Name, Phone: r.Phone, PasswordHash: r.PasswordHash, Role: domain.Role(r.Role),
		TownID: r.TownID, VillageIDs: r.VillageIDs, TownIDs: r.TownIDs, Disabled: r.Disabled,
		UnitID: r.UnitID, BirthYear: r.BirthYear, AgeTier: domain.AgeTier(r.AgeTier),
		Security:  domain.UserSecurity(r.Security),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	u.Security.PasswordChangedAt = u.Security.PasswordChangedAt.UTC()
	if u.Security.PasswordChangedAt.Equal(time.Unix(0, 0)) {
		u.Security.PasswordChangedAt = time.Time{}
	}
	return u
}

// InsertUser adds an account; ErrDuplicate when the phone is taken.
func (s *Store) InsertUser(ctx context.Context, u domain.User) error {
	defer s.ledgerChanged()
	if err := insert(ctx, s, colUsers, toUserRow(u)); err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// UpdateUser replaces an account.
func (s *Store) UpdateUser(ctx context.Context, u domain.User) error {
	defer s.ledgerChanged()
	if err := replace(ctx, s, colUsers, u.ID, toUserRow(u)); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return nil
}

// GetUser returns an account inside the scope, from the cache.
func (s *Store) GetUser(ctx context.Context, id string, sc domain.Scope) (domain.User, error) {
	r, err := findOne[userRow](ctx, s, colUsers, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return domain.User{}, fmt.Errorf("get user: %w", err)
	}
	if !sc.Matches(r.ID, r.TownIDs...) {
		return domain.User{}, fmt.Errorf("get user: %w", domain.ErrNotFound)
	}
	return toUser(r), nil
}

// UserByPhone returns the account that signs in with phone.
func (s *Store) UserByPhone(ctx context.Context, phone string) (domain.User, error) {
	r, err := findOne[userRow](ctx, s, colUsers, bson.D{{Key: "phone", Value: phone}})
	if err != nil {
		return domain.User{}, fmt.Errorf("user by phone: %w", err)
	}
	return toUser(r), nil
}

// ListUsers lists accounts in _id order.
func (s *Store) ListUsers(ctx context.Context, f domain.UserFilter, p domain.Page) (domain.List[domain.User], error) {
	filter := scopeFilter(f.Scope, "townIds")
	if f.Role != "" {
		filter = and(filter, bson.D{{Key: "role", Value: string(f.Role)}})
	}
	if f.TownID != "" {
		filter = and(filter, bson.D{{Key: "townIds", Value: f.TownID}})
	}
	if f.VillageID != "" {
		filter = and(filter, bson.D{{Key: "villageIds", Value: f.VillageID}})
	}
	if f.NameContains != "" {
		filter = and(filter, bson.D{{Key: "name", Value: containsRegex(f.NameContains)}})
	}
	return findPage(ctx, s, colUsers, filter, p, toUser)
}

// CountUsers counts every account.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.call(ctx, func(ctx context.Context) error {
		var err error
		n, err = s.db.Collection(colUsers).CountDocuments(ctx, bson.D{})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}
