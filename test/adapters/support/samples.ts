/** Canonical licence.verify and evaluation.submit messages (docs/canonical.md), for which no partner samples exist. */
import type { CanonicalForms } from '../../../adapters/canonical.ts';

export const licenceVerifyRequest: CanonicalForms['licence.verify']['request'] = {
  verifyNo: 'HC3305002026112700001',
  licenceNo: 'JY23305020012345',
  holder: { idType: '111', idNumber: '330502199003070029', name: '王芳' },
  requestedAt: '2026-11-27T10:15:00+08:00',
};

export const licenceVerifyResponse: CanonicalForms['licence.verify']['response'] = {
  verifyNo: 'HC3305002026112700001',
  licenceNo: 'JY23305020012345',
  valid: true,
  licenceName: '食品经营许可证',
  validUntil: '2031-11-26',
  message: '证照有效',
};

/** An invalid licence: the optional name and end date are absent. */
export const licenceVerifyResponseInvalid: CanonicalForms['licence.verify']['response'] = {
  verifyNo: 'HC3305002026112700002',
  licenceNo: 'JY23305020099999',
  valid: false,
  message: '未查询到该证照',
};

export const evaluationSubmitRequest: CanonicalForms['evaluation.submit']['request'] = {
  applyNo: '3304002026112700002',
  score: 5,
  comment: '办理很快，窗口服务热情',
  evaluatedAt: '2026-11-28T16:20:00+08:00',
};

/** A score without a comment. */
export const evaluationSubmitRequestBare: CanonicalForms['evaluation.submit']['request'] = {
  applyNo: '3304002026112700003',
  score: 2,
  evaluatedAt: '2026-11-28T16:21:00+08:00',
};

export const evaluationSubmitResponse: CanonicalForms['evaluation.submit']['response'] = {
  applyNo: '3304002026112700002',
  message: '评价已收到',
};
