package api

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
)

// Role sets for the route table. The campaign's routes are the campaign
// roles'; the three administrators of separated duties reach only theirs:
// the system administrator the accounts, towns and villages, the security
// administrator the accounts' roles, locks and factors, the audit
// administrator the audit trail.
var (
	everyone      = domain.Roles
	allRoles      = domain.CampaignRoles
	adminOnly     = []domain.Role{domain.RoleAdmin}
	orgWriters    = []domain.Role{domain.RoleAdmin, domain.RoleTownAdmin}
	orgReads      = append(slices.Clone(domain.CampaignRoles), domain.RoleSysAdmin)
	townWriters   = []domain.Role{domain.RoleAdmin, domain.RoleSysAdmin}
	villageOrg    = []domain.Role{domain.RoleAdmin, domain.RoleSysAdmin, domain.RoleTownAdmin}
	accountReads  = []domain.Role{domain.RoleAdmin, domain.RoleLeader, domain.RoleTownAdmin}
	userReads     = []domain.Role{domain.RoleAdmin, domain.RoleLeader, domain.RoleTownAdmin, domain.RoleSysAdmin, domain.RoleSecAdmin}
	userCreators  = []domain.Role{domain.RoleSysAdmin, domain.RoleTownAdmin}
	userWriters   = []domain.Role{domain.RoleSysAdmin, domain.RoleSecAdmin, domain.RoleTownAdmin}
	securityAdmin = []domain.Role{domain.RoleSecAdmin}
	auditAdmin    = []domain.Role{domain.RoleAuditAdmin}
	// villageWriters change a village's problems and targets (scope decides which).
	villageWriters = []domain.Role{domain.RoleAdmin, domain.RoleTownAdmin, domain.RoleTeamLeader, domain.RoleCadre}
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
	s.handle(v1, fiber.MethodPost, "/auth/second-factor", nil, s.secondFactor)
	s.handleSetup(v1, fiber.MethodGet, "/me", s.me)
	s.handleSetup(v1, fiber.MethodPost, "/me/password", s.changePassword)
	s.handleSetup(v1, fiber.MethodPost, "/me/second-factor", s.startSecondFactor)
	s.handleSetup(v1, fiber.MethodPost, "/me/second-factor/confirm", s.confirmSecondFactor)
	s.handle(v1, fiber.MethodPost, "/feedback", everyone, s.sendFeedback)
	s.handle(v1, fiber.MethodGet, "/feedback", everyone, s.listFeedback)
	s.handle(v1, fiber.MethodGet, "/feedback/:id", everyone, s.getFeedback)
	s.handle(v1, fiber.MethodPost, "/feedback/:id/answer", adminOnly, s.answerFeedback)
	s.handle(v1, fiber.MethodGet, "/me/notifications", allRoles, s.notifications)
	s.handle(v1, fiber.MethodGet, "/me/notifications/unread-count", allRoles, s.unreadCount)
	s.handle(v1, fiber.MethodPost, "/me/notifications/read", allRoles, s.markRead)
	s.handle(v1, fiber.MethodGet, "/me/wechat/subscriptions", allRoles, s.subscriptions)
	s.handle(v1, fiber.MethodPost, "/me/wechat/subscriptions", allRoles, s.subscribe)

	s.handle(v1, fiber.MethodPost, "/towns", townWriters, s.createTown)
	s.handle(v1, fiber.MethodGet, "/towns", orgReads, s.listTowns)
	s.handle(v1, fiber.MethodGet, "/towns/:id", orgReads, s.getTown)
	s.handle(v1, fiber.MethodPatch, "/towns/:id", townWriters, s.patchTown)

	s.handle(v1, fiber.MethodPost, "/villages", villageOrg, s.createVillage)
	s.handle(v1, fiber.MethodGet, "/villages", orgReads, s.listVillages)
	s.handle(v1, fiber.MethodGet, "/villages/:id", orgReads, s.getVillage)
	s.handle(v1, fiber.MethodPatch, "/villages/:id", villageOrg, s.patchVillage)
	s.handle(v1, fiber.MethodPost, "/imports/villages", villageOrg, s.importVillages)

	s.handle(v1, fiber.MethodPost, "/users", userCreators, s.createUser)
	s.handle(v1, fiber.MethodGet, "/users", userReads, s.listUsers)
	s.handle(v1, fiber.MethodGet, "/users/:id", userReads, s.getUser)
	s.handle(v1, fiber.MethodPatch, "/users/:id", userWriters, s.patchUser)
	s.handle(v1, fiber.MethodPost, "/users/:id/second-factor/reset", securityAdmin, s.resetSecondFactor)

	s.handle(v1, fiber.MethodGet, "/audit", auditAdmin, s.listAudit)
	s.handle(v1, fiber.MethodGet, "/audit.csv", auditAdmin, s.exportAudit)

	s.handle(v1, fiber.MethodGet, "/catalogues/:kind", allRoles, s.listCatalogue)
	s.handle(v1, fiber.MethodPut, "/catalogues/:kind/:code", adminOnly, s.putCatalogueItem)

	s.handle(v1, fiber.MethodPost, "/campaigns", adminOnly, s.createCampaign)
	s.handle(v1, fiber.MethodGet, "/campaigns", allRoles, s.listCampaigns)
	s.handle(v1, fiber.MethodGet, "/campaigns/:id", allRoles, s.getCampaign)
	s.handle(v1, fiber.MethodPatch, "/campaigns/:id", adminOnly, s.patchCampaign)
	s.handle(v1, fiber.MethodPut, "/campaigns/:id/evaluations/:villageId", orgWriters, s.putEvaluation)
	s.handle(v1, fiber.MethodGet, "/campaigns/:id/evaluations", accountReads, s.listEvaluations)
	s.handle(v1, fiber.MethodGet, "/campaigns/:id/ranking", accountReads, s.ranking)
	s.handle(v1, fiber.MethodGet, "/campaigns/:id/candidates", accountReads, s.candidates)
	s.handle(v1, fiber.MethodGet, "/campaigns/:id/candidates.xlsx", accountReads, s.candidatesXLSX)
	s.handle(v1, fiber.MethodPost, "/campaigns/:id/selections", orgWriters, s.createSelection)
	s.handle(v1, fiber.MethodGet, "/campaigns/:id/selections", allRoles, s.listSelections)
	s.handle(v1, fiber.MethodGet, "/campaigns/:id/selections/:villageId", allRoles, s.getSelection)
	s.handle(v1, fiber.MethodPost, "/campaigns/:id/selections/:villageId/notes", orgWriters, s.addSelectionNote)

	s.handle(v1, fiber.MethodPost, "/villages/:id/problems", villageWriters, s.createProblem)
	s.handle(v1, fiber.MethodGet, "/villages/:id/problems", allRoles, s.listProblems)
	s.handle(v1, fiber.MethodGet, "/problems/:id", allRoles, s.getProblem)
	s.handle(v1, fiber.MethodPatch, "/problems/:id", villageWriters, s.patchProblem)
	s.handle(v1, fiber.MethodPost, "/villages/:id/targets", villageWriters, s.createTarget)
	s.handle(v1, fiber.MethodGet, "/villages/:id/targets", allRoles, s.listTargets)
	s.handle(v1, fiber.MethodGet, "/targets/:id", allRoles, s.getTarget)
	s.handle(v1, fiber.MethodPatch, "/targets/:id", villageWriters, s.patchTarget)
	s.handle(v1, fiber.MethodPost, "/targets/:id/progress", villageWriters, s.addProgress)
	s.handle(v1, fiber.MethodGet, "/targets/:id/progress", allRoles, s.listProgress)
	s.handle(v1, fiber.MethodGet, "/villages/:id/ledger", allRoles, s.ledger)
	s.handle(v1, fiber.MethodGet, "/villages/:id/unit-suggestions", allRoles, s.unitSuggestions)

	s.handle(v1, fiber.MethodPost, "/units", adminOnly, s.createUnit)
	s.handle(v1, fiber.MethodGet, "/units", allRoles, s.listUnits)
	s.handle(v1, fiber.MethodGet, "/units/:id", allRoles, s.getUnit)
	s.handle(v1, fiber.MethodPatch, "/units/:id", adminOnly, s.patchUnit)
	s.handle(v1, fiber.MethodPost, "/teams", orgWriters, s.createTeam)
	s.handle(v1, fiber.MethodGet, "/teams", allRoles, s.listTeams)
	s.handle(v1, fiber.MethodGet, "/teams/:id", allRoles, s.getTeam)
	s.handle(v1, fiber.MethodPatch, "/teams/:id", orgWriters, s.patchTeam)
	s.handle(v1, fiber.MethodPost, "/trainings", adminOnly, s.createTraining)
	s.handle(v1, fiber.MethodGet, "/trainings", accountReads, s.listTrainings)

	rc := reportCodec()
	s.handle(v1, fiber.MethodPost, "/reports", villageWriters, s.createRecord(rc))
	s.handle(v1, fiber.MethodGet, "/reports", allRoles, s.listRecords(rc))
	s.handle(v1, fiber.MethodGet, "/reports/:id", allRoles, s.getRecord(rc))
	s.handle(v1, fiber.MethodPatch, "/reports/:id", villageWriters, s.patchRecord(rc))
	s.handle(v1, fiber.MethodDelete, "/reports/:id", villageWriters, s.deleteRecord(rc))

	dc := disputeCodec()
	s.handle(v1, fiber.MethodPost, "/disputes", villageWriters, s.createRecord(dc))
	s.handle(v1, fiber.MethodGet, "/disputes", allRoles, s.listRecords(dc))
	s.handle(v1, fiber.MethodGet, "/disputes/:id", allRoles, s.getRecord(dc))
	s.handle(v1, fiber.MethodPatch, "/disputes/:id", villageWriters, s.patchRecord(dc))
	s.handle(v1, fiber.MethodPost, "/disputes/:id/resolve", villageWriters, s.resolveDispute())
	s.handle(v1, fiber.MethodPost, "/disputes/:id/escalate", villageWriters, s.escalateDispute())

	pc := projectCodec()
	s.handle(v1, fiber.MethodPost, "/projects", villageWriters, s.createRecord(pc))
	s.handle(v1, fiber.MethodGet, "/projects", allRoles, s.listRecords(pc))
	s.handle(v1, fiber.MethodGet, "/projects/:id", allRoles, s.getRecord(pc))
	s.handle(v1, fiber.MethodPatch, "/projects/:id", villageWriters, s.patchRecord(pc))
	s.handle(v1, fiber.MethodPost, "/projects/:id/updates", villageWriters, s.addProjectUpdate)
	s.handle(v1, fiber.MethodGet, "/projects/:id/updates", allRoles, s.listProjectUpdates)

	fc := fundCodec()
	s.handle(v1, fiber.MethodPost, "/funds", villageWriters, s.createRecord(fc))
	s.handle(v1, fiber.MethodGet, "/funds", allRoles, s.listRecords(fc))

	s.handle(v1, fiber.MethodPut, "/onpost-plans/:cadreId/:week", villageWriters, s.putPlan)
	s.handle(v1, fiber.MethodGet, "/onpost", allRoles, s.onPostWeek)

	s.handle(v1, fiber.MethodPost, "/photos/uploads", villageWriters, s.startUpload)
	s.handle(v1, fiber.MethodPost, "/photos", villageWriters, s.uploadPhoto)
	s.handle(v1, fiber.MethodGet, "/photos", allRoles, s.listPhotos)
	s.handle(v1, fiber.MethodGet, "/photos/:id", allRoles, s.getPhoto)
	s.handle(v1, fiber.MethodPost, "/photos/:id/complete", villageWriters, s.completePhoto)
	s.handle(v1, fiber.MethodGet, "/photos/:id/content", allRoles, s.photoURL(false))
	s.handle(v1, fiber.MethodGet, "/photos/:id/thumbnail", allRoles, s.photoURL(true))
	// Signed links to the local photo store's bytes: the signature is the credential.
	s.handle(v1, fiber.MethodGet, "/blobs/:key", nil, s.blob)

	s.handle(v1, fiber.MethodGet, "/stats/summary", allRoles, s.statsSummary)
	s.handle(v1, fiber.MethodGet, "/stats/series", allRoles, s.statsSeries)
	s.handle(v1, fiber.MethodGet, "/stats/villages", allRoles, s.statsVillages)
	s.handle(v1, fiber.MethodPut, "/assessments/:villageId/:period", orgWriters, s.putAssessment)
	s.handle(v1, fiber.MethodGet, "/assessments/:villageId/:period", allRoles, s.getAssessment)
	s.handle(v1, fiber.MethodPost, "/assessments/:villageId/:period/finalize", orgWriters, s.finalizeAssessment)

	s.handle(v1, fiber.MethodPost, "/reviews", reviewers, s.reviews)
	s.handle(v1, fiber.MethodGet, "/approvals", allRoles, s.listApprovals)
	s.handle(v1, fiber.MethodGet, "/approvals/:level/:scopeId/:period", allRoles, s.getApproval)
	s.handle(v1, fiber.MethodPost, "/approvals/:level/:scopeId/:period/:action", reviewers, s.actOnApproval)
	s.handle(v1, fiber.MethodPost, "/leaves", leaveAskers, s.requestLeave)
	s.handle(v1, fiber.MethodGet, "/leaves", allRoles, s.listLeaves)
	s.handle(v1, fiber.MethodGet, "/leaves/:id", allRoles, s.getLeave)
	s.handle(v1, fiber.MethodPost, "/leaves/:id/decision", reviewers, s.decideLeave)
	s.handle(v1, fiber.MethodPost, "/leaves/:id/cancel", leaveAskers, s.cancelLeave)
	s.handle(v1, fiber.MethodPost, "/field-checks", orgWriters, s.createFieldCheck)
	s.handle(v1, fiber.MethodGet, "/field-checks", allRoles, s.listFieldChecks)
	s.handle(v1, fiber.MethodGet, "/villages/:id/monthly", allRoles, s.monthly)
	s.handle(v1, fiber.MethodGet, "/exports/ledger.xlsx", accountReads, s.ledgerXLSX)
	s.handle(v1, fiber.MethodGet, "/exports/:sheet.csv", accountReads, s.sheetCSV)

	s.handle(v1, fiber.MethodPost, "/sync", villageWriters, s.sync)
	s.handle(v1, fiber.MethodGet, "/sync/changes", allRoles, s.changes)
}
