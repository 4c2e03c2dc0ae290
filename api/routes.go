package api

import (
	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// Role sets for the route table.
var (
	allRoles     = domain.Roles
	adminOnly    = []domain.Role{domain.RoleAdmin}
	orgWriters   = []domain.Role{domain.RoleAdmin, domain.RoleTownAdmin}
	accountReads = []domain.Role{domain.RoleAdmin, domain.RoleLeader, domain.RoleTownAdmin}
)

// register adds every route. Each states who may call it; nil is public.
func (s *server) register(app *fiber.App) {
	s.handle(app, fiber.MethodGet, "/healthz", nil, s.healthz)
	s.handle(app, fiber.MethodGet, "/readyz", nil, s.readyz)
	s.handle(app, fiber.MethodGet, "/metrics", nil, s.metricsHandler)
	s.handle(app, fiber.MethodGet, "/openapi.yaml", nil, s.spec)
	s.handle(app, fiber.MethodGet, "/docs", nil, s.docsIndex)
	s.handle(app, fiber.MethodGet, "/docs/:file", nil, s.docsAsset)

	v1 := app.Group("/api/v1")
	s.handle(v1, fiber.MethodPost, "/auth/login", nil, s.login)
	s.handle(v1, fiber.MethodPost, "/auth/refresh", nil, s.refresh)
	s.handle(v1, fiber.MethodPost, "/auth/logout", nil, s.logout)
	s.handle(v1, fiber.MethodPost, "/auth/wechat", nil, s.wechatLogin)
	s.handle(v1, fiber.MethodPost, "/auth/wechat/bind", nil, s.wechatBind)
	s.handle(v1, fiber.MethodGet, "/me", allRoles, s.me)

	s.handle(v1, fiber.MethodPost, "/towns", adminOnly, s.createTown)
	s.handle(v1, fiber.MethodGet, "/towns", allRoles, s.listTowns)
	s.handle(v1, fiber.MethodGet, "/towns/:id", allRoles, s.getTown)
	s.handle(v1, fiber.MethodPatch, "/towns/:id", adminOnly, s.patchTown)

	s.handle(v1, fiber.MethodPost, "/villages", orgWriters, s.createVillage)
	s.handle(v1, fiber.MethodGet, "/villages", allRoles, s.listVillages)
	s.handle(v1, fiber.MethodGet, "/villages/:id", allRoles, s.getVillage)
	s.handle(v1, fiber.MethodPatch, "/villages/:id", orgWriters, s.patchVillage)
	s.handle(v1, fiber.MethodPost, "/imports/villages", orgWriters, s.importVillages)

	s.handle(v1, fiber.MethodPost, "/users", orgWriters, s.createUser)
	s.handle(v1, fiber.MethodGet, "/users", accountReads, s.listUsers)
	s.handle(v1, fiber.MethodGet, "/users/:id", accountReads, s.getUser)
	s.handle(v1, fiber.MethodPatch, "/users/:id", orgWriters, s.patchUser)

	s.handle(v1, fiber.MethodGet, "/audit", adminOnly, s.listAudit)
}
