package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// disputeBody is a dispute's JSON body.
type disputeBody struct {
	bodyEnvelope
	IdentifiedAt       *time.Time `json:"identifiedAt,omitempty"`
	Category           string     `json:"category,omitempty"`
	Parties            []string   `json:"parties,omitempty"`
	Description        string     `json:"description,omitempty"`
	Source             string     `json:"source,omitempty"`
	Status             string     `json:"status,omitempty"`
	ResolvedAt         *time.Time `json:"resolvedAt,omitempty"`
	Resolution         string     `json:"resolution,omitempty"`
	LossesRecoveredFen int64      `json:"lossesRecoveredFen,omitempty"`
	EscalatedTo        string     `json:"escalatedTo,omitempty"`
	EscalatedAt        *time.Time `json:"escalatedAt,omitempty"`
	PhotoIDs           []string   `json:"photoIds,omitempty"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (b *disputeBody) fill(r *domain.Record) {
	d := &domain.Dispute{Category: b.Category, Parties: b.Parties, Description: b.Description, Source: b.Source,
		Status: b.Status, ResolvedAt: utcPtr(b.ResolvedAt), Resolution: b.Resolution, LossesRecoveredFen: b.LossesRecoveredFen,
		EscalatedTo: b.EscalatedTo, EscalatedAt: utcPtr(b.EscalatedAt), PhotoIDs: b.PhotoIDs}
	if b.IdentifiedAt != nil {
		d.IdentifiedAt = b.IdentifiedAt.UTC()
	}
	r.Dispute = d
}

func disputeBodyOf(r *domain.Record) recordBody {
	b := &disputeBody{}
	if r == nil || r.Dispute == nil {
		return b
	}
	d, v := r.Dispute, r.Version
	t := d.IdentifiedAt
	*b = disputeBody{bodyEnvelope: bodyEnvelope{ID: r.ID, VillageID: r.VillageID, Version: &v}, IdentifiedAt: &t,
		Category: d.Category, Parties: d.Parties, Description: d.Description, Source: d.Source, Status: d.Status,
		ResolvedAt: d.ResolvedAt, Resolution: d.Resolution, LossesRecoveredFen: d.LossesRecoveredFen,
		EscalatedTo: d.EscalatedTo, EscalatedAt: d.EscalatedAt, PhotoIDs: d.PhotoIDs}
	return b
}

func disputeCodec() recordCodec { return recordCodec{typ: domain.TypeDispute, body: disputeBodyOf} }

// resolveDispute and escalateDispute are edits that set the status with
// the fields that go with it.
type resolveReq struct {
	ResolvedAt         *time.Time `json:"resolvedAt"`
	Resolution         string     `json:"resolution"`
	LossesRecoveredFen int64      `json:"lossesRecoveredFen"`
	PhotoIDs           []string   `json:"photoIds"`
	Version            *int       `json:"version"`
}

type escalateReq struct {
	EscalatedTo string     `json:"escalatedTo"`
	EscalatedAt *time.Time `json:"escalatedAt"`
	Version     *int       `json:"version"`
}

func (s *server) disputeAction(set func(raw []byte, d *domain.Dispute) error, probe func(raw []byte) (*int, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		raw, err := jsonBody(c)
		if err != nil {
			return err
		}
		bodyVersion, err := probe(raw)
		if err != nil {
			return err
		}
		v, err := version(c, bodyVersion)
		if err != nil {
			return err
		}
		apply := func(stored domain.Record) (domain.Record, error) {
			next := stored
			d := *stored.Dispute
			if err := set(raw, &d); err != nil {
				return domain.Record{}, err
			}
			next.Dispute = &d
			return next, nil
		}
		rc := disputeCodec()
		r, _, err := s.svc.Field.Update(ctx(c), caller(c), domain.TypeDispute, c.Params("id"), v, editKey(v, append([]byte(c.Path()), raw...)), apply)
		if err != nil {
			return err
		}
		etag(c, r.Version)
		return s.sendRecord(c, rc, r)
	}
}

func (s *server) resolveDispute() fiber.Handler {
	return s.disputeAction(func(raw []byte, d *domain.Dispute) error {
		var req resolveReq
		if err := decodeJSON(raw, &req); err != nil {
			return err
		}
		d.Status, d.ResolvedAt, d.Resolution, d.LossesRecoveredFen = domain.DisputeResolved, utcPtr(req.ResolvedAt), req.Resolution, req.LossesRecoveredFen
		d.EscalatedTo, d.EscalatedAt = "", nil
		if req.PhotoIDs != nil {
			d.PhotoIDs = req.PhotoIDs
		}
		return nil
	}, func(raw []byte) (*int, error) {
		var req resolveReq
		if err := decodeJSON(raw, &req); err != nil {
			return nil, err
		}
		return req.Version, nil
	})
}

func (s *server) escalateDispute() fiber.Handler {
	return s.disputeAction(func(raw []byte, d *domain.Dispute) error {
		var req escalateReq
		if err := decodeJSON(raw, &req); err != nil {
			return err
		}
		d.Status, d.EscalatedTo, d.EscalatedAt = domain.DisputeEscalated, req.EscalatedTo, utcPtr(req.EscalatedAt)
		return nil
	}, func(raw []byte) (*int, error) {
		var req escalateReq
		if err := decodeJSON(raw, &req); err != nil {
			return nil, err
		}
		return req.Version, nil
	})
}
