# Independent reference figures for cwsw.evaluation.mixed_models: the three frequentist analyses
# of the EEF's R package eefAnalytics 1.1.5 (crtFREQ, srtFREQ, mstFREQ, default options: no
# bootstrap, no permutation) on the package's example data, recomputed here from the package's
# published definitions with lme4 and base R only. eefAnalytics itself is NOT used: this script
# was written from reading the package's documented method (its R sources on CRAN,
# cran/eefAnalytics @ 4d1229d2, and the papers it follows: Hedges 2007 for cluster trials,
# Singh et al. 2022 for multisite trials), so that a fault in cwsw's Python would not be
# hidden by sharing its code.
#
# How the numbers pinned in tests/evaluation/test_effect_sizes.py were produced:
#   apt-get install -y --no-install-recommends r-base-core r-cran-lme4   # Debian 12 (bookworm):
#                                                         # R 4.2.2, lme4 1.1.31, Matrix 1.5
#   cd /work/main && Rscript tests/evaluation/reference/eefanalytics_reference.R ../shared/fixtures/eef
# The project does not install R; the tests never run this script, they hold its printed output.
# The package's own printed output on the same data (its authors' paper code and output,
# germaine86/eefAnalytics @ 54d5ae5, Output-paper/) agrees with every figure here that it
# shows; the tests check both.
#
# Besides the three examples it prints: theta and the REML/ML deviances (to check cwsw's
# deviance function against lme4's), lme4's profile points of the multisite coefficients near
# their 95% limits, and a cluster randomised trial on the boundary (school variance 0), built
# from fixed numbers that test_effect_sizes.py's boundary_trial() builds the same way.
#
# Definitions (as eefAnalytics applies them):
#   - mixed models by lme4::lmer with REML (its default); fixed-effect 95% CIs by profile
#     likelihood (confint.merMod's default method, which profiles the ML refit);
#   - crt: random intercept for school; unconditional variances from the intercept-only model;
#     Hedges' g on within-school and total variance with Hedges (2007) variances, +-1.96 SE;
#   - srt: OLS; g = J * beta / sigma with J = 1 - 3 / (4 (n_t + n_c - 2) - 1), sigma the residual
#     SD (conditional) or the outcome's SD (unconditional); t-based CIs for the coefficients;
#   - mst: random intercept and random treatment slope for school (unstructured 2x2);
#     total variance = school + pupil + (N_t / N) * (slope + 2 cov); ICC = sum of the 2x2 matrix
#     over that total; conditional g with Singh et al. (2022)'s variance over the schools
#     holding both arms; unconditional g as in crt (Hedges 2007) with the intercept-only
#     model's variances.
suppressPackageStartupMessages(library(lme4))

args <- commandArgs(trailingOnly = TRUE)
fixtures <- if (length(args) > 0) args[[1]] else "../shared/fixtures/eef"
crt_data <- read.csv(file.path(fixtures, "crtData.csv"))
mst_data <- read.csv(file.path(fixtures, "mstData.csv"))

say <- function(label, value, digits = 6) {
  cat(sprintf("%-44s % .*f\n", label, digits, value))
}

say_g <- function(prefix, g) {
  say(paste(prefix, "g"), g[["g"]])
  say(paste(prefix, "lower"), g[["g"]] - 1.96 * g[["se"]])
  say(paste(prefix, "upper"), g[["g"]] + 1.96 * g[["se"]])
}

# Sizes of each arm by school, as Hedges (2007) names them.
arm_counts <- function(treated, school) {
  n_t <- as.numeric(table(school[treated == 1]))
  n_c <- as.numeric(table(school[treated == 0]))
  list(n_t = n_t, n_c = n_c, N_t = sum(n_t), N_c = sum(n_c), m_t = length(n_t), m_c = length(n_c))
}

# Hedges (2007) eq. for d_W and its variance (the package uses M = m_t + m_c).
hedges_within <- function(beta, var_within, icc, treated, school) {
  a <- arm_counts(treated, school)
  N <- a$N_t + a$N_c
  M <- a$m_t + a$m_c
  n_tilde <- a$N_c * sum(a$n_t^2) / (a$N_t * N) + a$N_t * sum(a$n_c^2) / (a$N_c * N)
  d <- beta / sqrt(var_within)
  v <- (N / (a$N_t * a$N_c)) * (1 + (n_tilde - 1) * icc) / (1 - icc) + d^2 / (2 * (N - M))
  c(g = d, se = sqrt(v))
}

# Hedges (2007) d_T (unequal cluster sizes) and its variance.
hedges_total <- function(beta, var_total, icc, treated, school) {
  a <- arm_counts(treated, school)
  N <- a$N_t + a$N_c
  n_ut <- (a$N_t^2 - sum(a$n_t^2)) / (a$N_t * (a$m_t - 1))
  n_uc <- (a$N_c^2 - sum(a$n_c^2)) / (a$N_c * (a$m_c - 1))
  d <- beta / sqrt(var_total) *
    sqrt(1 - icc * ((N - n_ut * a$m_t - n_uc * a$m_c) + n_ut + n_uc - 2) / (N - 2))
  n_tilde <- a$N_c * sum(a$n_t^2) / (a$N_t * N) + a$N_t * sum(a$n_c^2) / (a$N_c * N)
  B <- n_ut * (a$m_t - 1) + n_uc * (a$m_c - 1)
  A_t <- (a$N_t^2 * sum(a$n_t^2) + sum(a$n_t^2)^2 - 2 * a$N_t * sum(a$n_t^3)) / a$N_t^2
  A_c <- (a$N_c^2 * sum(a$n_c^2) + sum(a$n_c^2)^2 - 2 * a$N_c * sum(a$n_c^3)) / a$N_c^2
  A <- A_t + A_c
  v <- (N / (a$N_t * a$N_c)) * (1 + (n_tilde - 1) * icc) +
    ((N - 2) * (1 - icc)^2 + A * icc^2 + 2 * B * icc * (1 - icc)) * d^2 /
      (2 * (N - 2) * ((N - 2) - icc * (N - 2 - B)))
  c(g = d, se = sqrt(v))
}

# Singh et al. (2022)'s multisite variance: over schools holding both arms, with the slope variance.
multisite_g <- function(beta, denominator_var, var_within, var_slope, treated, school) {
  counts <- table(school, treated)
  both <- counts[, "0"] > 0 & counts[, "1"] > 0
  n_harmonic <- counts[both, "1"] * counts[both, "0"] / (counts[both, "1"] + counts[both, "0"])
  N <- length(treated)
  M <- length(unique(school))
  d <- beta / sqrt(denominator_var)
  v <- 1 / sum(denominator_var / (var_slope + var_within / n_harmonic)) + d^2 / (2 * N - 4 * M)
  c(g = d, se = sqrt(v))
}

profile_ci <- function(fit) {
  suppressMessages(confint(fit, parm = "beta_", method = "profile", level = 0.95))
}

# crtFREQ's figures for one data set; `tag` starts each label.
report_crt <- function(tag, data, formula) {
  data <- data[order(data$School), ]
  fit <- lmer(formula, data = data, REML = TRUE)
  null <- lmer(Posttest ~ 1 + (1 | School), data = data, REML = TRUE)
  cat(tag, "singular fit:", isSingular(fit), "\n")
  ci <- suppressWarnings(profile_ci(fit))
  say(paste(tag, "theta"), getME(fit, "theta")[[1]], 10)
  say(paste(tag, "REML deviance"), -2 * as.numeric(logLik(fit)), 10)
  say(paste(tag, "ML deviance"), deviance(refitML(fit)), 10)
  for (name in names(fixef(fit))) {
    say(paste(tag, "beta", name), fixef(fit)[[name]])
    say(paste(tag, "beta", name, "lower"), ci[name, 1])
    say(paste(tag, "beta", name, "upper"), ci[name, 2])
  }
  var_b <- as.numeric(VarCorr(fit)$School)
  var_w <- sigma(fit)^2
  var_b0 <- as.numeric(VarCorr(null)$School)
  var_w0 <- sigma(null)^2
  say(paste(tag, "conditional school variance"), var_b)
  say(paste(tag, "conditional pupil variance"), var_w)
  say(paste(tag, "conditional total variance"), var_b + var_w)
  say(paste(tag, "conditional icc"), var_b / (var_b + var_w))
  say(paste(tag, "unconditional school variance"), var_b0)
  say(paste(tag, "unconditional pupil variance"), var_w0)
  say(paste(tag, "unconditional total variance"), var_b0 + var_w0)
  say(paste(tag, "unconditional icc"), var_b0 / (var_b0 + var_w0))
  beta <- fixef(fit)[["Intervention"]]
  tr <- data$Intervention
  sc <- data$School
  icc1 <- var_b / (var_b + var_w)
  icc0 <- var_b0 / (var_b0 + var_w0)
  say_g(paste(tag, "conditional within"), hedges_within(beta, var_w, icc1, tr, sc))
  say_g(paste(tag, "conditional total"), hedges_total(beta, var_b + var_w, icc1, tr, sc))
  say_g(paste(tag, "unconditional within"), hedges_within(beta, var_w0, icc0, tr, sc))
  say_g(paste(tag, "unconditional total"), hedges_total(beta, var_b0 + var_w0, icc0, tr, sc))
  re <- ranef(fit)$School
  for (s in rownames(re)[1:6]) say(paste(tag, "school effect", s), re[s, 1])
}

cat("## crt: Posttest ~ Intervention + Prettest + (1 | School), crtData, REML\n")
report_crt("crt", crt_data, Posttest ~ Intervention + Prettest + (1 | School))

# A fit on the boundary (school variance 0), where statsmodels' optimiser gives up: 6 schools
# of 8 pupils, each school holding the same 8 scores in a different order, +1.5 if treated,
# so that the school means are equal within each arm.
cat("## crt on a boundary: Posttest ~ Intervention + (1 | School), constructed data, REML\n")
scores <- c(3, 7, 4, 9, 5, 6, 2, 8)
edge <- data.frame(School = rep(1:6, each = 8), Intervention = rep(rep(0:1, 3), each = 8))
edge$Posttest <- unlist(lapply(1:6, function(s) scores[(seq_len(8) + s - 2) %% 8 + 1])) +
  1.5 * edge$Intervention
report_crt("edge", edge, Posttest ~ Intervention + (1 | School))

cat("## srt: Posttest ~ Intervention + Prettest, mstData, OLS\n")
ols <- lm(Posttest ~ Intervention + Prettest, data = mst_data)
ci <- confint(ols)
for (name in names(coef(ols))) {
  say(paste("srt beta", name), coef(ols)[[name]])
  say(paste("srt beta", name, "lower"), ci[name, 1])
  say(paste("srt beta", name, "upper"), ci[name, 2])
}
n_t <- sum(mst_data$Intervention == 1)
n_c <- sum(mst_data$Intervention == 0)
J <- 1 - 3 / (4 * (n_t + n_c - 2) - 1)
for (which in c("conditional", "unconditional")) {
  s <- if (which == "conditional") summary(ols)$sigma else sd(mst_data$Posttest)
  say(paste("srt", which, "variance"), s^2)
  d <- coef(ols)[["Intervention"]] / s
  se_d <- sqrt((n_t + n_c) / (n_t * n_c) + d^2 / (2 * (n_t + n_c)))
  say_g(paste("srt", which), c(g = J * d, se = J * se_d))
}

cat("## mst: Posttest ~ Intervention + Prettest + (1 + Intervention | School), mstData, REML\n")
mst_data <- mst_data[order(mst_data$School, mst_data$Intervention), ]
fit <- suppressMessages(
  lmer(Posttest ~ Intervention + Prettest + (1 + Intervention | School),
    data = mst_data, REML = TRUE)
)
null <- lmer(Posttest ~ 1 + (1 | School), data = mst_data, REML = TRUE)
cat("mst singular fit:", isSingular(fit), "\n")
ci <- suppressWarnings(profile_ci(fit))
theta <- getME(fit, "theta")
for (k in seq_along(theta)) say(paste("mst theta", k), theta[[k]], 10)
say("mst REML deviance", -2 * as.numeric(logLik(fit)), 10)
ml <- suppressMessages(refitML(fit))
say("mst ML deviance", deviance(ml), 10)
theta_ml <- getME(ml, "theta")
for (k in seq_along(theta_ml)) say(paste("mst ML theta", k), theta_ml[[k]], 10)
# lme4's own profile points around the 95% limits (|zeta| between 1.2 and 2.8), where cwsw's
# profile limits and lme4's differ: the test compares profiled deviances at these points.
grid <- suppressWarnings(suppressMessages(as.data.frame(profile(fit, which = "beta_"))))
for (name in names(fixef(fit))) {
  near <- grid[grid$.par == name & abs(grid$.zeta) > 1.2 & abs(grid$.zeta) < 2.8, ]
  for (k in seq_len(nrow(near))) {
    say(paste("mst lme4 profile", name, "value", k), near[k, name], 8)
    say(paste("mst lme4 profile", name, "zeta", k), near[k, ".zeta"], 8)
  }
}
for (name in names(fixef(fit))) {
  say(paste("mst beta", name), fixef(fit)[[name]])
  say(paste("mst beta", name, "lower"), ci[name, 1])
  say(paste("mst beta", name, "upper"), ci[name, 2])
}
G <- as.matrix(VarCorr(fit)$School)
var_w <- sigma(fit)^2
share_t <- sum(mst_data$Intervention == 1) / nrow(mst_data)
var_tt <- G[1, 1] + var_w + share_t * (G[2, 2] + 2 * G[1, 2])
say("mst conditional school variance", G[1, 1])
say("mst conditional slope variance", G[2, 2])
say("mst conditional school-slope covariance", G[1, 2])
say("mst conditional pupil variance", var_w)
say("mst conditional total variance", var_tt)
say("mst conditional icc", sum(G) / var_tt)
var_b0 <- as.numeric(VarCorr(null)$School)
var_w0 <- sigma(null)^2
say("mst unconditional school variance", var_b0)
say("mst unconditional pupil variance", var_w0)
say("mst unconditional total variance", var_b0 + var_w0)
say("mst unconditional icc", var_b0 / (var_b0 + var_w0))
beta <- fixef(fit)[["Intervention"]]
tr <- mst_data$Intervention
sc <- mst_data$School
say_g("mst conditional within", multisite_g(beta, var_w, var_w, G[2, 2], tr, sc))
say_g("mst conditional total", multisite_g(beta, var_tt, var_w, G[2, 2], tr, sc))
icc0 <- var_b0 / (var_b0 + var_w0)
say_g("mst unconditional within", hedges_within(beta, var_w0, icc0, tr, sc))
say_g("mst unconditional total", hedges_total(beta, var_b0 + var_w0, icc0, tr, sc))
