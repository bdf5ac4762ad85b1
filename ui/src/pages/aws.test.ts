import { describe, expect, it } from 'vitest';

import { roleBody, usesSts } from './Aws';

const draft = {
  name: 'deploy',
  type: 'iam_user',
  policyDocument:
    '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]\n}',
  policyArns: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
  roleArns: '',
  groups: 'devs, ops',
  tags: 'team=infra',
  defaultTtl: '',
  maxTtl: '',
  userPath: '',
  boundary: '',
};

describe('roleBody', () => {
  it('builds an iam_user role, the STS fields cleared', () => {
    const { body, errors } = roleBody(draft);
    expect(errors).toEqual({});
    expect(body).toEqual({
      credential_type: 'iam_user',
      policy_document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
      policy_arns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      role_arns: [],
      iam_groups: ['devs', 'ops'],
      iam_tags: { team: 'infra' },
      default_sts_ttl: 0,
      max_sts_ttl: 0,
      user_path: '/',
      permissions_boundary_arn: '',
    });
  });
  it('builds an assumed_role role with TTLs, the IAM user fields cleared', () => {
    const { body, errors } = roleBody({
      ...draft,
      type: 'assumed_role',
      roleArns: 'arn:aws:iam::123456789012:role/deployer',
      defaultTtl: '15m',
      maxTtl: '1h',
    });
    expect(errors).toEqual({});
    expect(body).toMatchObject({
      credential_type: 'assumed_role',
      role_arns: ['arn:aws:iam::123456789012:role/deployer'],
      default_sts_ttl: 900,
      max_sts_ttl: 3600,
      iam_tags: {},
      user_path: '',
    });
  });
  it('sends no policy for session_token', () => {
    const { body } = roleBody({ ...draft, type: 'session_token' });
    expect(body).toMatchObject({ policy_document: '', policy_arns: [], iam_groups: [] });
  });
  it('reports each field that is wrong', () => {
    const { errors } = roleBody({
      ...draft,
      name: 'bad name',
      type: 'assumed_role',
      policyDocument: '{"Statement": [}',
      roleArns: '',
      policyArns: 'ReadOnlyAccess',
      defaultTtl: '2h',
      maxTtl: '1h',
    });
    expect(Object.keys(errors).sort()).toEqual(['defaultTtl', 'name', 'policyArns', 'policyDocument', 'roleArns']);
    expect(errors.policyDocument).toBe('Invalid JSON at line 1, column 16: unexpected "}"');
    expect(errors.roleArns).toBe('An assumed_role role needs at least one role ARN');
  });
});

describe('usesSts', () => {
  it('sends STS-only roles to sts/', () => {
    expect(usesSts('iam_user')).toBe(false);
    expect(usesSts('assumed_role')).toBe(true);
    expect(usesSts('federation_token,iam_user')).toBe(false);
    expect(usesSts('session_token')).toBe(true);
  });
});
