// Package domain holds zhucun's entities, rules and services, and declares
// the interfaces (stores, hashers, clocks) it needs from the outside.
//
// It imports the standard library only: HTTP lives in package api, MongoDB
// and photo stores in package storage, and cmd/zhucun wires them together.
package domain

import "context"

// Store is every store interface the services declare, as one backend
// (SQLite, or MongoDB) provides them all.
type Store interface {
	OrgStore
	UserStore
	SessionStore
	AuditStore
	CatalogueStore
	CampaignStore
	ProblemStore
	TargetStore
	TeamStore
	TrainingStore
	OnPostStore
	AssessmentStore
	FieldCheckStore
	PhotoIndex
	PendingPhotoStore
	RecordStore
	StatsStore
	LedgerSource
	ApprovalStore
	LeaveStore
	FeedbackStore
	NotificationStore
	Close(ctx context.Context) error
}
