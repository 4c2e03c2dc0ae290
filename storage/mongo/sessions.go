package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zhucun/domain"
)

type refreshRow struct {
	Hash      string    `bson:"_id"`
	Family    string    `bson:"family"`
	UserID    string    `bson:"userId"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
	Factors   string    `bson:"factors,omitempty"` // absent: a password ("pwd")
}

// markerRow is a document whose existence is the fact: a token used, a
// family revoked, an openid bound. Inserting one is atomic on every backend.
type markerRow struct {
	ID     string    `bson:"_id"`
	UserID string    `bson:"userId,omitempty"`
	At     time.Time `bson:"at"`
}

// InsertRefreshToken stores a refresh token's hash.
func (s *Store) InsertRefreshToken(ctx context.Context, t domain.RefreshToken) error {
	row := refreshRow{Hash: t.Hash, Family: t.Family, UserID: t.UserID, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Factors: t.Factors}
	if err := insert(ctx, s, colRefresh, row); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// GetRefreshToken returns a refresh token by its hash.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (domain.RefreshToken, error) {
	r, err := findOne[refreshRow](ctx, s, colRefresh, bson.D{{Key: "_id", Value: hash}})
	if err != nil {
		return domain.RefreshToken{}, fmt.Errorf("get refresh token: %w", err)
	}
	return domain.RefreshToken{Hash: r.Hash, Family: r.Family, UserID: r.UserID,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), Factors: r.Factors}, nil
}

// ClaimRefreshToken records a token's one use; ErrDuplicate on the second.
func (s *Store) ClaimRefreshToken(ctx context.Context, hash string, at time.Time) error {
	if err := insert(ctx, s, colRefreshUsed, markerRow{ID: hash, At: at}); err != nil {
		return fmt.Errorf("claim refresh token: %w", err)
	}
	return nil
}

// RevokeFamily revokes every token of a family. Revoking twice is fine.
func (s *Store) RevokeFamily(ctx context.Context, family string, at time.Time) error {
	err := insert(ctx, s, colRevoked, markerRow{ID: family, At: at})
	if err != nil && !errors.Is(err, domain.ErrDuplicate) {
		return fmt.Errorf("revoke family: %w", err)
	}
	return nil
}

// FamilyRevoked reports whether a family was revoked.
func (s *Store) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	_, err := findOne[markerRow](ctx, s, colRevoked, bson.D{{Key: "_id", Value: family}})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, domain.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("family revoked: %w", err)
}

// WeChatUser returns the account an openid is bound to.
func (s *Store) WeChatUser(ctx context.Context, openID string) (string, error) {
	r, err := findOne[markerRow](ctx, s, colWeChat, bson.D{{Key: "_id", Value: openID}})
	if err != nil {
		return "", fmt.Errorf("wechat user: %w", err)
	}
	return r.UserID, nil
}

// BindWeChat binds an openid; ErrDuplicate if it is bound already.
func (s *Store) BindWeChat(ctx context.Context, openID, userID string, at time.Time) error {
	if err := insert(ctx, s, colWeChat, markerRow{ID: openID, UserID: userID, At: at}); err != nil {
		return fmt.Errorf("bind wechat: %w", err)
	}
	return nil
}
